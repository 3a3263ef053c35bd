// A small policy for the file suites, so they test what the PEP does with each kind of answer
// (allow, deny, masked) whatever the starter pack's file rules say: readers only look, writers
// change too, any path with a `forbidden` segment is refused, and a read under a `masked`
// folder comes back with e-mail addresses and card numbers masked.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

const FILE_POLICY = `package portcullis

looks := {"read", "list", "stat", "realpath", "readlink"}

deny_code := "file-path-unreadable" if {
	input.action.type == "file"
	input.action.parse_error != null
} else := "file-forbidden" if {
	input.action.type == "file"
	some path in input.action.paths
	regex.match("(^|/)forbidden(/|$)", path)
} else := "file-read-only" if {
	input.action.type == "file"
	not input.action.operation in looks
	not "writer" in input.principal.roles
}

masks := [{"kind": "byte-stream", "stream": "file", "detectors": ["email", "credit-card"], "strategy": "redact"}] if {
	input.action.type == "file"
	input.action.operation == "read"
	regex.match("(^|/)masked/", input.action.path)
} else := []

decision := {
	"effect": "deny",
	"reasons": [{"code": deny_code, "message": "the file test policy refuses this"}],
	"obligations": {"mask": [], "record": true, "unmasked": false},
} if {
	deny_code
} else := {
	"effect": "allow",
	"reasons": [{"code": "file-test-allow", "message": "the file test policy allows this"}],
	"obligations": {"mask": masks, "record": true, "unmasked": count(masks) == 0},
}
`;

/** Builds (with the real opa) the file test policy's WASM bundle; for PORTCULLIS_BUNDLE_FILE. */
export function fileTestPolicyBundle(): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-file-policy-'));
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), FILE_POLICY);
  const bundle = join(folder, 'bundle.tar.gz');
  const opa = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync(opa, ['build', '-t', 'wasm', '-e', 'portcullis/decision', '-o', bundle, join(folder, 'portcullis')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return bundle;
}
