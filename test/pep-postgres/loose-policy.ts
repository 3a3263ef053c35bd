// A policy folder that allows every action: for suites that test what the PEP does whatever
// policy says (a route the policy did not catch), or that run a client's own test suite.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ALLOW_ALL = `package portcullis

decision := {
	"effect": "allow",
	"reasons": [{"code": "test-allows-everything", "message": "a test policy that allows every action"}],
	"obligations": {"mask": [], "record": true, "unmasked": true},
}
`;

/** Resolves once the PDP serves a compiled policy (a folder is compiled after the PDP starts); bounded. */
export async function policyLoaded(pdpUrl: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const health = (await (await fetch(`${pdpUrl}/health`)).json()) as { policy_revision?: string | null };
    if (health.policy_revision) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the PDP loaded no policy within 60 s');
}

/** A new folder for PORTCULLIS_POLICY_DIR whose only rule allows everything. */
export function allowAllPolicyDir(): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-loose-policy-'));
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), ALLOW_ALL);
  return folder;
}
