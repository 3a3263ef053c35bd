#!/usr/bin/env node
// Runs every test file of every workspace in one node:test run, so the output ends with one
// summary. Test files run from TypeScript source through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['pdp/test', 'pdp/contract/test', 'policies/test', 'test', ...listDirs('pep-agents').map((dir) => `${dir}/test`)];
const filter = process.argv.slice(2);

const files = roots
  .flatMap((dir) => walk(join(root, dir)))
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => relative(root, file))
  .filter((file) => filter.length === 0 || filter.some((word) => file.includes(word)))
  .sort();

if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
console.error(`run-tests: ${files.length} test files`);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
});
process.exit(result.status ?? 1);

function listDirs(dir) {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).filter((name) => statSync(join(full, name)).isDirectory()).map((name) => `${dir}/${name}`);
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === 'fixtures') return [];
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
