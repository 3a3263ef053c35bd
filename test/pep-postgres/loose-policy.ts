// A policy bundle that allows every action: for suites that test what the PEP does whatever
// policy says (a route the policy did not catch), or that run a client's own test suite.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

const ALLOW_ALL = `package portcullis

decision := {
	"effect": "allow",
	"reasons": [{"code": "test-allows-everything", "message": "a test policy that allows every action"}],
	"obligations": {"mask": [], "record": true, "unmasked": true},
}
`;

/** Builds (with the real opa) a WASM bundle whose only rule allows everything; for PORTCULLIS_BUNDLE_FILE. */
export function allowAllBundle(): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-loose-policy-'));
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), ALLOW_ALL);
  const bundle = join(folder, 'bundle.tar.gz');
  const opa = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync(opa, ['build', '-t', 'wasm', '-e', 'portcullis/decision', '-o', bundle, join(folder, 'portcullis')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return bundle;
}
