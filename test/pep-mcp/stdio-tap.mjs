#!/usr/bin/env node
// Runs a stdio MCP server (the arguments after the log file) and appends every line the gateway
// sends it to the log file, so a suite can prove what reached the server and what did not. The
// server's answers pass back untouched; the tap's pid goes first in the log's sibling `.pid`.
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';

const [log, command, ...args] = process.argv.slice(2);
writeFileSync(`${log}.pid`, `${process.pid}\n`, { flag: 'a' });
const server = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
process.stdin.on('data', (chunk) => {
  appendFileSync(log, chunk);
  server.stdin.write(chunk);
});
process.stdin.on('end', () => server.stdin.end());
server.stdout.pipe(process.stdout);
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
process.on('SIGTERM', () => server.kill('SIGTERM'));
