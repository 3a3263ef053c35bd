// A small policy for the exec masking suite, so it tests what the PEP does with byte-stream
// obligations whatever the starter pack masks: every login and command is allowed; a command
// naming `people` comes back with e-mail addresses and card numbers masked on both streams, one
// naming `stdout-only` on stdout alone, `stderr-only` on stderr alone, and one naming `unknown-detector` asks for a detector no
// PEP has (so the PEP must refuse it rather than run it unmasked).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

const EXEC_MASK_POLICY = `package portcullis

command := object.get(input.action, "command", "")

masks := [{"kind": "byte-stream", "detectors": ["email", "credit-card"], "strategy": "redact"}] if {
	contains(command, "people")
} else := [{"kind": "byte-stream", "stream": "stdout", "detectors": ["email"], "strategy": "redact"}] if {
	contains(command, "stdout-only")
} else := [{"kind": "byte-stream", "stream": "stderr", "detectors": ["email"], "strategy": "redact"}] if {
	contains(command, "stderr-only")
} else := [{"kind": "byte-stream", "detectors": ["retina-scan"], "strategy": "redact"}] if {
	contains(command, "unknown-detector")
} else := []

decision := {
	"effect": "allow",
	"reasons": [{"code": "exec-test-allow", "message": "the exec masking test policy allows this"}],
	"obligations": {"mask": masks, "record": true, "unmasked": count(masks) == 0},
}
`;

/** Builds (with the real opa) the policy's WASM bundle; for PORTCULLIS_BUNDLE_FILE. */
export function execMaskPolicyBundle(): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-exec-mask-policy-'));
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), EXEC_MASK_POLICY);
  const bundle = join(folder, 'bundle.tar.gz');
  const opa = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync(opa, ['build', '-t', 'wasm', '-e', 'portcullis/decision', '-o', bundle, join(folder, 'portcullis')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return bundle;
}
