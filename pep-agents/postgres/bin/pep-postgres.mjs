#!/usr/bin/env node
// Runs the Postgres PEP from its TypeScript source: no build step between an edit and a run.
import { register } from 'tsx/esm/api';

register();
const { runFromEnvironment } = await import('../src/main.ts');
try {
  await runFromEnvironment(process.env);
} catch (error) {
  process.stderr.write(`portcullis-pep-postgres: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
