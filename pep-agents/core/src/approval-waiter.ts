import { setTimeout as sleep } from 'node:timers/promises';
import type { ApprovalStatusV1, DecisionAnswer, DecisionRequest, MaskObligationV1, MaskTargetV1 } from './decision-contract.ts';
import { readApprovalStatus } from './approval-status-reader.ts';
import { failClosedAnswer } from './fail-closed-answer.ts';
import type { DecisionClient } from './pdp-client.ts';
import type { PdpTransport } from './pdp-transport.ts';

export interface ApprovalWaiterConfig {
  /** The longest a PEP holds a command for a person to decide (also bounded by the approval's expiry). */
  readonly maxWaitMs?: number;
  /** One long poll's `wait`, in seconds (the PDP allows at most 60). */
  readonly pollSeconds?: number;
  /** Time allowed beyond a long poll's wait for its answer to arrive. */
  readonly pollSlackMs?: number;
  /** Polls that fail in a row (PDP restarting …) before the wait gives up. */
  readonly maxConsecutiveFailures?: number;
  /** First pause after a failed poll; it doubles each time. */
  readonly retryDelayMs?: number;
}

export interface ApprovalWaitOptions {
  /** The client cancelled or went away: stop waiting, refuse. */
  readonly signal?: AbortSignal;
  /** Called whenever the approval's state changes (an approver voted, it was decided). */
  readonly onUpdate?: (approval: ApprovalStatusV1) => void;
  /** Overrides the configured bound for this wait. */
  readonly maxWaitMs?: number;
}

const MAX_POLL_SECONDS = 60;
// The PDP may mark an approval expired a moment after its expiry time; give it that moment.
const EXPIRY_GRACE_MS = 2000;

/**
 * Holds an `approval_required` command until a person decides: long-polls the approval, then,
 * once approved, asks for the decision again presenting the approval (which the PDP consumes).
 * Every way the wait can end other than approval ends in a deny.
 */
export class ApprovalWaiter<Mask extends MaskTargetV1 = MaskObligationV1> {
  private readonly maxWaitMs: number;
  private readonly pollSeconds: number;
  private readonly pollSlackMs: number;
  private readonly maxFailures: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly transport: PdpTransport,
    private readonly decisions: DecisionClient<Mask>,
    config: ApprovalWaiterConfig = {},
  ) {
    this.maxWaitMs = config.maxWaitMs ?? 300_000;
    this.pollSeconds = Math.min(Math.max(config.pollSeconds ?? 30, 1), MAX_POLL_SECONDS);
    this.pollSlackMs = config.pollSlackMs ?? 2000;
    this.maxFailures = config.maxConsecutiveFailures ?? 3;
    this.retryDelayMs = config.retryDelayMs ?? 250;
  }

  /** The final answer for `request`, given the answer that asked for approval; other answers pass through. */
  async waitAndDecide(request: DecisionRequest, answer: DecisionAnswer<Mask>, options: ApprovalWaitOptions = {}): Promise<DecisionAnswer<Mask>> {
    if (answer.effect !== 'approval_required') return answer;
    const approval = answer.approval;
    if (!approval?.id) return failClosedAnswer('approval-wait-failed', 'approval was required but the PDP named no approval to wait for');

    const expiresAt = Date.parse(approval.expires_at);
    const ownBound = Date.now() + (options.maxWaitMs ?? this.maxWaitMs);
    const bound = Number.isNaN(expiresAt) ? ownBound : Math.min(ownBound, expiresAt + EXPIRY_GRACE_MS);
    const { signal } = options;
    let failures = 0;
    let lastSeen = '';

    for (;;) {
      if (signal?.aborted) return refuse(answer, 'approval-cancelled', 'the wait for approval was cancelled');
      const remaining = bound - Date.now();
      if (remaining <= 0) {
        return Date.now() >= expiresAt
          ? refuse(answer, 'approval-expired', `approval ${approval.id} expired before anyone decided`)
          : refuse(answer, 'approval-timeout', `no decision on approval ${approval.id} within the time this PEP waits`);
      }

      const waitSeconds = Math.min(this.pollSeconds, Math.max(1, Math.ceil(remaining / 1000)));
      const result = await this.transport.call('GET', `/v1/approvals/${encodeURIComponent(approval.id)}?wait=${waitSeconds}`, undefined, {
        deadlineMs: waitSeconds * 1000 + this.pollSlackMs,
        ...(signal ? { signal } : {}),
      });
      if (signal?.aborted) return refuse(answer, 'approval-cancelled', 'the wait for approval was cancelled');

      if (result.kind === 'answer' && result.status >= 400) {
        return refuse(answer, 'approval-wait-failed', `the PDP answered ${result.status} for approval ${approval.id}`);
      }
      const status = result.kind === 'answer' ? readApprovalStatus(result.body) : undefined;
      if (!status) {
        failures += 1;
        if (failures > this.maxFailures) {
          const why = result.kind === 'failure' ? result.code : 'pdp-bad-answer';
          return refuse(answer, 'approval-wait-failed', `the approval could not be followed (${why})`);
        }
        await pause(Math.min(this.retryDelayMs * 2 ** (failures - 1), Math.max(remaining, 0)), signal);
        continue;
      }
      failures = 0;

      const seen = `${status.status}:${status.decisions.length}`;
      if (seen !== lastSeen) {
        lastSeen = seen;
        notify(options.onUpdate, status);
      }

      switch (status.status) {
        case 'pending':
          continue;
        case 'approved': {
          const final = await this.decisions.decide({ ...request, approval_id: approval.id }, signal ? { signal } : {});
          if (final.effect === 'approval_required') {
            return refuse(final, 'approval-wait-failed', 'the PDP asked for another approval after one was granted');
          }
          return final;
        }
        case 'denied':
          return refuse(answer, 'approval-denied', deniedMessage(status));
        case 'expired':
          return refuse(answer, 'approval-expired', `approval ${approval.id} expired before it was granted`);
        case 'executed':
          return refuse(answer, 'approval-already-used', `approval ${approval.id} was already used`);
      }
    }
  }
}

/** A deny that stays tied to the decision that asked for approval, for the session record. */
function refuse<Mask extends MaskTargetV1>(answer: DecisionAnswer<Mask>, code: string, message: string): DecisionAnswer<Mask> {
  return { ...answer, source: 'pep', effect: 'deny', reasons: [{ code, message }], obligations: { mask: [], record: true } };
}

function deniedMessage(status: ApprovalStatusV1): string {
  const reasons = status.decisions.filter((entry) => entry.verdict !== 'approve' && entry.reason).map((entry) => entry.reason!.slice(0, 200));
  return reasons.length > 0 ? `an approver denied the request: ${reasons.join('; ')}` : 'an approver denied the request';
}

function notify(onUpdate: ApprovalWaitOptions['onUpdate'], status: ApprovalStatusV1): void {
  try {
    onUpdate?.(status);
  } catch {
    // A failing observer must not decide whether the command runs.
  }
}

async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch {
    // aborted: the loop sees the signal and refuses
  }
}
