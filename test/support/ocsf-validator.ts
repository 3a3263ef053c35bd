/**
 * Runs the OCSF event validator (OCSF 1.8.0: the schema's own files, the OCSF server's
 * validation rules) over JSONL audit files. The validator and the schema files are not part of
 * the product and are published on no package registry at 1.8.0: they are found in the
 * workplace's shared tools beside the repository (`../shared/tools/ocsf`), or where
 * PORTCULLIS_OCSF_VALIDATOR_DIR points (a folder with validate.py and schema-1.8.0/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const OCSF_TOOLS_DIR = resolve(process.env.PORTCULLIS_OCSF_VALIDATOR_DIR ?? join(REPOSITORY_ROOT, '..', 'shared', 'tools', 'ocsf'));
export const OCSF_SCHEMA_DIR = join(OCSF_TOOLS_DIR, 'schema-1.8.0');

export interface OcsfProblem {
  readonly level: 'error' | 'warning';
  readonly code: string;
  readonly path: string;
  readonly records: number;
  readonly examples: readonly string[];
}

export interface OcsfReport {
  /** Per class ("6005 Datastore Activity"): records checked, valid (no error), clean (no error, no warning). */
  readonly perClass: Record<string, { checked: number; valid: number; clean: number; problems: OcsfProblem[] }>;
  readonly duplicateUids: Record<string, string[]>;
  /** Lines that are not OCSF events (digest and checkpoint records), per file. */
  readonly notOcsf: Record<string, string[]>;
}

/** Validates every record of `files`; throws, naming the folder, when the validator is not there. */
export function validateOcsf(files: readonly string[]): OcsfReport {
  const script = join(OCSF_TOOLS_DIR, 'validate.py');
  if (!existsSync(script) || !existsSync(OCSF_SCHEMA_DIR)) {
    throw new Error(`the OCSF validator is not at ${OCSF_TOOLS_DIR} (validate.py and schema-1.8.0/): set PORTCULLIS_OCSF_VALIDATOR_DIR`);
  }
  const out = mkdtempSync(join(tmpdir(), 'portcullis-ocsf-'));
  try {
    const json = join(out, 'report.json');
    execFileSync('python3', [script, OCSF_SCHEMA_DIR, ...files, '--json', json, '--examples', '3'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const raw = JSON.parse(readFileSync(json, 'utf8')) as {
      per_class: Record<string, { checked: number; valid: number; clean: number; problems: OcsfProblem[] }>;
      duplicate_uids: Record<string, string[]>;
      non_ocsf: Record<string, string[]>;
    };
    return { perClass: raw.per_class, duplicateUids: raw.duplicate_uids, notOcsf: raw.non_ocsf };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
