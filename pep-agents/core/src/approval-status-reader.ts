import { approvalStateV1Validator } from '@portcullis/contract';
import type { ApprovalStatusV1, ApprovalVerdictV1 } from './decision-contract.ts';
import { isRecord } from './decision-answer-reader.ts';

/** Reads an untrusted `GET /v1/approvals/{id}` body; anything off-contract gives `undefined`. */
export function readApprovalStatus(body: unknown): ApprovalStatusV1 | undefined {
  if (!isRecord(body) || !isRecord(body.approval)) return undefined;
  const { id, status, expires_at: expiresAt, decisions } = body.approval;
  if (typeof id !== 'string' || !approvalStateV1Validator.check(status)) return undefined;
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
  return { id, status, expires_at: expiresAt, decisions: verdicts };
}
