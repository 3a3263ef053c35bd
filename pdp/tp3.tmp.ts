import { createShellAnalyzer } from './src/enrichment/shell-analyzer.ts';
const a = await createShellAnalyzer();
for (const c of process.argv.slice(2)) {
  const r = await a.analyze(c);
  console.log('>>', c, r.parse_error ?? '');
  for (const x of r.commands) console.log('  ', JSON.stringify(x));
}
