import { refusalFor, type ActionAuthorizer, type DecisionAnswer, type Refusal, type SessionV1 } from '@portcullis/pep-core';
import type { McpMask } from '../calls/mcp-masks.ts';

export type ConnectVerdict = { readonly allowed: true; readonly answer: DecisionAnswer<McpMask> } | { readonly allowed: false; readonly refusal: Refusal };

/**
 * The session's first decision, at initialize and before any upstream server starts: may this
 * token open an MCP session on this server (`connect`, protocol `mcp`)? The PDP verifies the
 * token here; an unacceptable one goes no further. A connect held for approval is not waited for
 * (an initialize cannot wait): the refusal names the approval, and connecting again once it is
 * granted works.
 */
export async function decideConnect(authorizer: ActionAuthorizer<McpMask>, subjectToken: string, session: SessionV1): Promise<ConnectVerdict> {
  const answer = await authorizer.authorize({ type: 'connect', protocol: 'mcp' }, { subjectToken, session, notify: () => undefined }, { approvalWaitMs: 0 });
  const refusal = refusalFor(answer);
  return refusal === undefined ? { allowed: true, answer } : { allowed: false, refusal };
}

/** Whether an answer's token has expired (the PDP may allow a little skew; the gateway does not). */
export function tokenExpired(answer: DecisionAnswer<McpMask>, now = Date.now()): boolean {
  const expiresAt = answer.principal.expires_at;
  return expiresAt !== undefined && !(Date.parse(expiresAt) > now);
}
