import { approvalNotice } from './approval-notice.ts';
import type { ApprovalWaiter } from './approval-waiter.ts';
import type { DecisionAnswer, DecisionRequest, MaskObligationV1, MaskTargetV1, ResourceV1, SessionV1 } from './decision-contract.ts';
import type { DecisionClient } from './pdp-client.ts';

/** What may be asked about: a command of the PEP's protocol, or a session start (`connect`). */
export type PepAction = DecisionRequest['action'];

export interface AuthorizeContext {
  /** The caller's OIDC token, exactly as the client presented it. */
  readonly subjectToken: string;
  readonly session: SessionV1;
  /** Ends a decision or an approval wait early (the client cancelled or went away). */
  readonly signal?: AbortSignal;
  /** Tells the client something while the command is held (Postgres: a NOTICE; SSH: stderr). */
  readonly notify: (message: string, detail?: string) => void;
}

export interface AuthorizeOptions {
  /**
   * An approval_required answer comes back as it is, with no approval opened and no wait (the
   * caller asks again with what the approval must be bound to).
   */
  readonly deferApproval?: boolean;
  /**
   * A shorter hold for this command, never longer than the configured one: 0 for a client that
   * cannot wait (it is told the approval and that running the command again once approved works).
   */
  readonly approvalWaitMs?: number;
}

/**
 * Asks the PDP about one action and, when the answer is approval_required, holds it: tells the
 * client which approval it waits for, follows the approval, and asks again once approved. The
 * result is always allow or deny; every failure along the way is a deny (the core fails closed).
 */
export class ActionAuthorizer<Mask extends MaskTargetV1 = MaskObligationV1> {
  constructor(
    private readonly decisions: DecisionClient<Mask>,
    private readonly approvals: ApprovalWaiter<Mask>,
    private readonly resource: ResourceV1,
    /** The configured bound on an approval wait, told to the client. */
    private readonly approvalWaitMs: number,
  ) {}

  async authorize(action: PepAction, context: AuthorizeContext, options: AuthorizeOptions = {}): Promise<DecisionAnswer<Mask>> {
    const request = {
      subject_token: context.subjectToken,
      resource: this.resource,
      action,
      session: context.session,
      ...(options.deferApproval ? { defer_approval: true } : {}),
    } satisfies DecisionRequest;
    const signal = context.signal ? { signal: context.signal } : {};
    const answer = await this.decisions.decide(request, signal);
    if (answer.effect !== 'approval_required' || options.deferApproval) return answer;

    const waitMs = Math.max(0, Math.min(this.approvalWaitMs, options.approvalWaitMs ?? Infinity));
    context.notify(approvalNotice(answer, waitMs / 1000) ?? 'portcullis: approval required; waiting');
    let votes = 0;
    return this.approvals.waitAndDecide(request, answer, {
      ...signal,
      maxWaitMs: waitMs,
      onUpdate: (status) => {
        if (status.status === 'pending' && status.decisions.length > votes) {
          votes = status.decisions.length;
          context.notify(`portcullis: approval ${status.id} has ${votes} vote${votes === 1 ? '' : 's'} so far; still waiting`);
        }
      },
    });
  }
}
