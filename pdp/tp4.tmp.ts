import { readFileSync } from 'node:fs';
import { createShellAnalyzer } from './src/enrichment/shell-analyzer.ts';
const a = await createShellAnalyzer();
for (const n of [100, 200, 300, 400, 1000, 3000]) {
  for (const [open, close] of [['$(', ')'], ['(', ')'], ['{ ', '; }'], ['bash -c "', '"']]) {
    const src = open.repeat(n) + 'x' + close.repeat(n);
    const t = performance.now(); const r = await a.analyze(src);
    console.log(n, open, r.parse_error ?? `ok ${r.commands.length}`, (performance.now()-t).toFixed(1), 'ms');
  }
}
let nested = 'reboot'; for (let i=0;i<20;i++) nested = `sh -c ${JSON.stringify(nested)}`;
console.log((await a.analyze(nested)).parse_error);
const big = 'echo hello world | grep x; '.repeat(9700);
let t = performance.now(); let r = await a.analyze(big); console.log('big', Buffer.byteLength(big), r.parse_error ?? r.commands.length, (performance.now()-t).toFixed(0), 'ms');
const many = 'a;'.repeat(100000);
t = performance.now(); r = await a.analyze(many); console.log('many', r.parse_error ?? r.commands.length, (performance.now()-t).toFixed(0), 'ms');
const args = 'echo ' + 'ab '.repeat(85000);
t = performance.now(); r = await a.analyze(args); console.log('args', r.parse_error ?? r.commands[0]?.args.length, (performance.now()-t).toFixed(0), 'ms');
r = await a.analyze('x'.repeat(300000)); console.log(r.parse_error);
r = await a.analyze('echo \uD800'); console.log(r.parse_error);
