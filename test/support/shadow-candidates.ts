import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './repository-root.ts';

/**
 * A candidate policy folder: the starter pack with its data edited by `edit` (a known change,
 * so a test knows exactly which decisions it changes).
 */
export function starterPackWithData(edit: (data: Record<string, any>) => void): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-candidate-'));
  cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(folder, 'portcullis'), { recursive: true });
  const dataFile = join(folder, 'portcullis/data.json');
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as Record<string, any>;
  edit(data);
  writeFileSync(dataFile, JSON.stringify(data, null, 2));
  return folder;
}

/**
 * A candidate whose `portcullis/decision` fails at evaluation for SQL actions: two complete
 * definitions that both hold, which compiles (they depend on input) but is a conflict at run
 * time, so the WASM evaluation aborts and the engine rejects.
 */
export function candidateThatThrowsOnSql(): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-candidate-throws-'));
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis/decision.rego'), [
    'package portcullis',
    '',
    'decision := {"effect": "allow", "reasons": [], "obligations": {}} if input.action.type == "sql"',
    '',
    'decision := {"effect": "deny", "reasons": [{"code": "conflict", "message": "conflict"}], "obligations": {}} if input.action.type == "sql"',
    '',
  ].join('\n'));
  return folder;
}
