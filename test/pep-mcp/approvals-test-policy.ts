// A small policy for the calls suites (approvals, masking, records), so they test what the gateway
// does with approvals and mask obligations whatever the starter pack's MCP rules say:
// - any authenticated caller may connect and list tools; the role `no-calls` may call nothing;
// - tools/call of write_file is held for approval (one approver);
// - read_text_file of a `.json` file comes back with the `email` of its rows masked by a JSON path
//   (redact) and their `card` partly (partial); of a `.txt` file, and read_media_file of anything,
//   with e-mail addresses and phone numbers found by detectors (redact); so does every
//   resources/read and prompts/get;
// - the role `clear-reader` reads personal data in clear (`obligations.unmasked`); others do not,
//   so the gateway's own detectors run on what they are sent.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedOpa } from '../support/pdp-harness.ts';
import { processTempFolder } from '../support/process-temp-folder.ts';

const CALLS_TEST_POLICY = `package portcullis

authenticated if input.principal.authenticated == true

roles := object.get(input.principal, "roles", [])

method := object.get(input.action, "method", "")

tool := object.get(input.action, "tool", "")

file := object.get(object.get(input.action, "arguments", {}), "path", "")

reason := {"code": "unauthenticated", "message": "the calls test policy: no verified token"} if {
	not authenticated
} else := {"code": "calls-test-no-calls", "message": "the calls test policy: role no-calls calls nothing"} if {
	method == "tools/call"
	"no-calls" in roles
} else := {"code": "calls-test-approval", "message": "the calls test policy: writing a file needs an approval"} if {
	method == "tools/call"
	tool == "write_file"
} else := {"code": "calls-test-allow", "message": "the calls test policy: allowed"}

effect := "allow" if {
	reason.code == "calls-test-allow"
} else := "approval_required" if {
	reason.code == "calls-test-approval"
} else := "deny"

masks := [
	{"kind": "json-path", "path": "$.rows[*].email", "strategy": "redact"},
	{"kind": "json-path", "path": "$.rows[*].card", "strategy": "partial"},
] if {
	effect == "allow"
	method == "tools/call"
	tool == "read_text_file"
	endswith(file, ".json")
} else := [{"kind": "byte-stream", "detectors": ["email", "phone"], "strategy": "redact"}] if {
	effect == "allow"
	method == "tools/call"
	tool == "read_text_file"
	endswith(file, ".txt")
} else := [{"kind": "byte-stream", "detectors": ["email", "phone"], "strategy": "redact"}] if {
	effect == "allow"
	method == "tools/call"
	tool == "read_media_file"
} else := [{"kind": "byte-stream", "detectors": ["email", "phone"], "strategy": "redact"}] if {
	effect == "allow"
	method in {"resources/read", "prompts/get"}
} else := []

obligations := {"mask": masks, "record": true, "unmasked": "clear-reader" in roles}

decision := {"effect": effect, "reasons": [reason], "obligations": obligations} if {
	effect != "approval_required"
} else := {
	"effect": effect,
	"reasons": [reason],
	"obligations": obligations,
	"approval": {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900},
}
`;

let built: string | undefined;

/** Builds (with the real opa) the policy's WASM bundle once per process; for PORTCULLIS_BUNDLE_FILE. */
export function callsTestPolicyBundle(): string {
  if (built) return built;
  const folder = processTempFolder('portcullis-mcp-calls-policy-');
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), CALLS_TEST_POLICY);
  const bundle = join(folder, 'bundle.tar.gz');
  execFileSync(installedOpa(), ['build', '-t', 'wasm', '-e', 'portcullis/decision', '-o', bundle, join(folder, 'portcullis')], { stdio: ['ignore', 'ignore', 'inherit'] });
  built = bundle;
  return bundle;
}
