#!/usr/bin/env node
// Runs the CLI from its TypeScript source: no build step between an edit and a run.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/portcullis-cli.ts');
try {
  process.exitCode = await runCli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`portcullis: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
