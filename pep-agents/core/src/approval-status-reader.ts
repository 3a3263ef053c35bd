import type { ApprovalState, ApprovalStatusV1, ApprovalVerdictV1 } from './decision-contract.ts';
import { isRecord } from './decision-answer-reader.ts';

const STATES = new Set<string>(['pending', 'approved', 'denied', 'expired', 'executed']);

/** Reads an untrusted `GET /v1/approvals/{id}` body; anything off-contract gives `undefined`. */
export function readApprovalStatus(body: unknown): ApprovalStatusV1 | undefined {
  if (!isRecord(body) || !isRecord(body.approval)) return undefined;
  const { id, status, expires_at: expiresAt, decisions } = body.approval;
  if (typeof id !== 'string' || typeof status !== 'string' || !STATES.has(status)) return undefined;
  if (typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt))) return undefined;
  const verdicts: ApprovalVerdictV1[] = [];
  for (const entry of Array.isArray(decisions) ? decisions : []) {
    if (!isRecord(entry) || typeof entry.approver !== 'string' || typeof entry.verdict !== 'string') return undefined;
    verdicts.push({
      approver: entry.approver,
      verdict: entry.verdict,
      ...(typeof entry.reason === 'string' ? { reason: entry.reason } : {}),
      at: typeof entry.at === 'string' ? entry.at : '',
    });
  }
  return { id, status: status as ApprovalState, expires_at: expiresAt, decisions: verdicts };
}
