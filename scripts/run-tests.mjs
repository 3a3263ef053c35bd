#!/usr/bin/env node
// Runs every test file of every workspace in one node:test run, so the output ends with one
// summary. Tests run from TypeScript source: tsx loads it, and the "source" export condition
// makes workspace packages (and the bins' "#cli"/"#main" imports) resolve to src/ rather than
// dist/. Both go in NODE_OPTIONS, so the node processes a test starts (the portcullis CLI, the
// PEP) run from source too; tsx is given as an absolute URL, so a child started in another
// folder finds it.
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
const SOURCE_NODE_OPTIONS = `--conditions=source --import=${import.meta.resolve('tsx')}`;
const nodeOptions = [process.env.NODE_OPTIONS, SOURCE_NODE_OPTIONS].filter(Boolean).join(' ');
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: nodeOptions, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
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
