// A small policy for the Kubernetes masking suite, so it tests what the PEP does with mask
// obligations whatever the starter pack masks: every request is allowed; ConfigMaps come back
// with e-mail addresses and card numbers found by detectors, Secrets masked by one path written
// for the object alone (`$.data.*`: the PEP applies it to lists, tables and watches too), and
// ServiceAccounts under a path no PEP reads (a filter: the PEP must refuse rather than relay it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

const MASK_POLICY = `package portcullis

resource := object.get(object.get(input.action, "request", {}), "resource", "")

masks := [{"kind": "byte-stream", "detectors": ["email", "credit-card"], "strategy": "redact"}] if {
	resource == "configmaps"
} else := [{"kind": "json-path", "path": "$.data.*", "strategy": "redact"}] if {
	resource == "secrets"
} else := [{"kind": "json-path", "path": "$.metadata.labels[?@ == 'x']", "strategy": "redact"}] if {
	resource == "serviceaccounts"
} else := []

decision := {
	"effect": "allow",
	"reasons": [{"code": "kube-mask-test-allow", "message": "the Kubernetes masking test policy allows this"}],
	"obligations": {"mask": masks, "record": true, "unmasked": count(masks) == 0},
}
`;

/** Builds (with the real opa) the policy's WASM bundle; for PORTCULLIS_BUNDLE_FILE. */
export function maskObligationsPolicyBundle(): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-kube-mask-policy-'));
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), MASK_POLICY);
  const bundle = join(folder, 'bundle.tar.gz');
  const opa = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync(opa, ['build', '-t', 'wasm', '-e', 'portcullis/decision', '-o', bundle, join(folder, 'portcullis')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return bundle;
}
