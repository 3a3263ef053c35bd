// Requests and helpers shared by the approval suites: commands the starter policy holds for
// approval, and HTTP calls to the approvals API.
import type { TestPdp } from '../support/pdp-harness.ts';

export const ORDERS_DB = { type: 'postgres', name: 'orders-db', environment: 'production' };

/** A write in production: one approver with the approver role (starter policy). */
export function deleteOrder(subjectToken: string, id = 7) {
  return { subject_token: subjectToken, resource: ORDERS_DB, action: { type: 'sql', sql: `DELETE FROM orders WHERE id = ${id}` }, session: { id: `session-${id}` } };
}

/** Production DDL: two approvers (starter policy). */
export function alterOrders(subjectToken: string) {
  return { subject_token: subjectToken, resource: ORDERS_DB, action: { type: 'sql', sql: 'ALTER TABLE orders ADD COLUMN note text' } };
}

export function readOrders(subjectToken: string) {
  return { subject_token: subjectToken, resource: ORDERS_DB, action: { type: 'sql', sql: 'SELECT id, total FROM orders WHERE id = 7' } };
}

export async function requestApproval(pdp: Pick<TestPdp, 'decide'>, body: unknown): Promise<{ id: string; decision: Record<string, unknown> }> {
  const { status, body: decision } = await pdp.decide(body);
  if (status !== 200 || decision.effect !== 'approval_required') throw new Error(`expected approval_required, got ${status} ${JSON.stringify(decision)}`);
  return { id: (decision.approval as { id: string }).id, decision };
}

export async function vote(url: string, token: string, id: string, verdict: 'approve' | 'deny', reason = '') {
  const response = await fetch(`${url}/v1/approvals/${id}/votes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict, reason }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

export async function longPoll(url: string, token: string, id: string, waitSeconds: number) {
  const response = await fetch(`${url}/v1/approvals/${id}?wait=${waitSeconds}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

export function reasonCodes(decision: Record<string, unknown>): string[] {
  return (decision.reasons as { code: string }[]).map((reason) => reason.code);
}
