// A small policy for the upgrade suite, so it tests what the PEP does with exec, attach and
// port-forward decisions whatever the starter pack asks (it holds every one for approval):
// everything is allowed, except an exec whose command names `forbidden`, and port-forward streams
// to any port but 8080 (a port-forward is decided as sent, then each port its streams name as
// `ports=N`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

const UPGRADE_TEST_POLICY = `package portcullis

path := object.get(input.action, "path", "")
query := object.get(input.action, "query", "")

effect := "deny" if {
	endswith(path, "/exec")
	contains(query, "forbidden")
} else := "deny" if {
	endswith(path, "/portforward")
	query != ""
	query != "ports=8080"
} else := "allow"

decision := {
	"effect": effect,
	"reasons": [{"code": "upgrade-test", "message": concat(" ", ["the upgrade test policy:", effect])}],
	"obligations": {"mask": [], "record": true, "unmasked": true},
}
`;

/** Builds (with the real opa) the policy's WASM bundle; for PORTCULLIS_BUNDLE_FILE. */
export function upgradeTestPolicyBundle(): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-upgrade-policy-'));
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), UPGRADE_TEST_POLICY);
  const bundle = join(folder, 'bundle.tar.gz');
  const opa = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync(opa, ['build', '-t', 'wasm', '-e', 'portcullis/decision', '-o', bundle, join(folder, 'portcullis')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return bundle;
}
