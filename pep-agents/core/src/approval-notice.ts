import type { AnyDecisionAnswer } from './decision-contract.ts';
import { clientSafeText } from './refusal-text.ts';

/**
 * What to tell a client whose command is held for approval (Postgres: a NoticeResponse; SSH: a
 * stderr line), or `undefined` when the answer holds nothing.
 */
export function approvalNotice(answer: AnyDecisionAnswer, waitSeconds?: number): string | undefined {
  if (answer.effect !== 'approval_required' || !answer.approval) return undefined;
  const { id, console_url: consoleUrl, expires_at: expiresAt } = answer.approval;
  const reasons = answer.reasons.map((reason) => reason.message).join('; ');
  return clientSafeText(
    [
      `portcullis: approval required${reasons ? ` (${reasons})` : ''}; approval ${id}`,
      consoleUrl ? `approve at ${consoleUrl}` : undefined,
      `expires ${expiresAt}`,
      waitSeconds === undefined ? undefined : `waiting up to ${Math.round(waitSeconds)} s`,
      // A caller that cannot wait that long (or gives up) needs to know its command is not lost.
      'if you stop waiting, run the same command again once it is approved (it then runs once)',
    ].filter(Boolean).join('; '),
  );
}
