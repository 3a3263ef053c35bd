// A small policy for the gateway's own suites, so they test what the gateway does with decisions
// whatever the starter pack's MCP rules say: an authenticated caller may connect (the role
// `no-mcp` may not); tools/call of write_file is denied, of anything else allowed; tools/list
// hides move_file; a to_client request is allowed unless its method is elicitation/create.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedOpa } from '../support/pdp-harness.ts';
import { processTempFolder } from '../support/process-temp-folder.ts';

const GATEWAY_TEST_POLICY = `package portcullis

authenticated if input.principal.authenticated == true

roles := object.get(input.principal, "roles", [])

method := object.get(input.action, "method", "")

reason := {"code": "unauthenticated", "message": "the core test policy: no verified token"} if {
	not authenticated
} else := {"code": "mcp-connect-denied", "message": "the core test policy: role no-mcp may not connect"} if {
	input.action.type == "connect"
	"no-mcp" in roles
} else := {"code": "mcp-write-denied", "message": "the core test policy: write_file is denied"} if {
	method == "tools/call"
	input.action.tool == "write_file"
} else := {"code": "mcp-elicitation-denied", "message": "the core test policy: no elicitation"} if {
	method == "elicitation/create"
} else := {"code": "mcp-test-allow", "message": "the core test policy: allowed"}

effect := "allow" if reason.code == "mcp-test-allow" else := "deny"

hidden := ["move_file"] if method == "tools/list" else := []

decision := {
	"effect": effect,
	"reasons": [reason],
	"obligations": {"mask": [], "record": true, "hidden_tools": hidden},
}
`;

let built: string | undefined;

/** Builds (with the real opa) the policy's WASM bundle once per process; for PORTCULLIS_BUNDLE_FILE. */
export function gatewayTestPolicyBundle(): string {
  if (built) return built;
  const folder = processTempFolder('portcullis-mcp-policy-');
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), GATEWAY_TEST_POLICY);
  const bundle = join(folder, 'bundle.tar.gz');
  execFileSync(installedOpa(), ['build', '-t', 'wasm', '-e', 'portcullis/decision', '-o', bundle, join(folder, 'portcullis')], { stdio: ['ignore', 'ignore', 'inherit'] });
  built = bundle;
  return bundle;
}
