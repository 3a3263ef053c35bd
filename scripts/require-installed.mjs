#!/usr/bin/env node
// Says plainly which tools are missing when node_modules predates a dependency (a pull that
// added one, without `npm install` since), instead of the shell's "command not found".
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const missing = process.argv.slice(2).filter((name) => !existsSync(join(root, 'node_modules', name, 'package.json')));
if (missing.length > 0) {
  process.stderr.write(`portcullis: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed; run \`npm install\` at the repository root first\n`);
  process.exit(1);
}
