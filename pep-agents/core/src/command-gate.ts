import type { ActionAuthorizer, AuthorizeContext } from './action-authorizer.ts';
import type { DecisionAnswer, MaskObligationV1, MaskTargetV1 } from './decision-contract.ts';
import type { DecisionReuseCache } from './decision-reuse-cache.ts';
import { staleDecisionReason, type StaleDecisionReason } from './decision-validity.ts';
import { refusalFor } from './fail-closed.ts';
import type { GateRefusal } from './gate-refusal.ts';
import type { ProtocolAdapter } from './protocol-adapter.ts';
import type { SessionRecorder, StatementRecord } from './session-recorder.ts';

export type GateVerdict<Refused, Mask extends MaskTargetV1 = MaskObligationV1> =
  /**
   * `reused`: an earlier allow of the same shape stands for this command (a reuse grant).
   * `approvalDeferred`: policy wants an approval; asked with `deferApproval`, none was opened yet.
   */
  | { readonly allowed: true; readonly answer: DecisionAnswer<Mask>; readonly reused: boolean; readonly approvalDeferred?: boolean }
  | { readonly allowed: false; readonly refusal: Refused };

export interface GateDecideOptions {
  /**
   * An approval_required answer is not held here: the verdict says so, and the PEP asks again
   * with what the approval must be bound to (Postgres: the values bound to a prepared statement).
   */
  readonly deferApproval?: boolean;
  /** Decided afresh whatever the reuse cache holds, and not kept for reuse (one execution with its own values). */
  readonly fresh?: boolean;
  /** A shorter approval hold for this command (0: the client cannot wait; it is told to run the command again once approved). */
  readonly approvalWaitMs?: number;
}

/** How a command that ran went, as the PEP saw it relayed. */
export interface CommandOutcome {
  readonly status: 'success' | 'failure';
  /** The upstream error's text when it failed (scrubbed of personal data before it is recorded); never output. */
  readonly error?: string;
  readonly rows?: number;
  /** Output bytes sent to the client, after masking. */
  readonly bytes?: number;
  /** Values (cells, spans, JSON fields) the masks replaced. */
  readonly masked?: number;
  /** A finer kind than the protocol's (`select`, `delete`), when the PEP learns it. */
  readonly kind?: string;
}

export type GateRun<Refused, Mask extends MaskTargetV1 = MaskObligationV1> =
  | { readonly ran: true; readonly answer: DecisionAnswer<Mask>; readonly outcome: CommandOutcome }
  | { readonly ran: false; readonly refusal: Refused };

export interface CommandGateOptions<Mask extends MaskTargetV1 = MaskObligationV1> {
  /** The session's record: asked before each command whether it can take one more, and given each command that ran. */
  readonly recorder?: SessionRecorder;
  /** This session's allows the PDP granted reuse for, by the adapter's shape; none: every command is asked about. */
  readonly reuse?: DecisionReuseCache<Mask>;
  /**
   * How long a command may wait for the session record to catch up before it is refused
   * (default 5 s): under a burst the record slows the session instead of failing it; a record
   * that stays behind (the PDP away) still refuses, so nothing runs unrecorded.
   */
  readonly recordWaitMs?: number;
  /** Milliseconds, for durations; replaceable in tests. */
  readonly clock?: () => number;
}

const DEFAULT_RECORD_WAIT_MS = 5_000;

/**
 * The one path every command of every PEP takes: decide (a reused allow, or the PDP), wait for
 * an approval with a hint to the caller (the authorizer), check the decision can be enforced
 * here (the session can record it, the token has not expired, the adapter can apply its masks),
 * and record what ran. The protocol adapter turns a refusal into what its client understands.
 *
 * Only allows are ever kept (and only under a reuse grant): a deny or a pending approval is never
 * served again, so the same command sent again after its approval was granted is decided afresh,
 * and the PDP finds the approval by its binding.
 */
export class CommandGate<Command, Refused, Mask extends MaskTargetV1 = MaskObligationV1> {
  private readonly reuse: DecisionReuseCache<Mask> | undefined;
  private readonly clock: () => number;
  /** The policy revision of the newest PDP answer: decisions under older ones are decided again. */
  private latestRevision: string | null | undefined;

  constructor(
    private readonly adapter: ProtocolAdapter<Command, Refused, Mask>,
    private readonly authorizer: ActionAuthorizer<Mask>,
    /** The caller's token, session, cancellation and hint channel, as they are when a command arrives. */
    private readonly context: () => AuthorizeContext,
    private readonly options: CommandGateOptions<Mask> = {},
  ) {
    this.reuse = options.reuse;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** One command → allowed (with the answer whose obligations its output must honour) or the adapter's refusal. */
  async decide(command: Command, options: GateDecideOptions = {}): Promise<GateVerdict<Refused, Mask>> {
    // The record has room for nearly every command: no wait, and no promise, then.
    const recordable = this.canRecord();
    if (!(recordable === true || (await recordable))) return this.refuse({ reason: 'record-unavailable' }, command);
    const shape = this.reuse && !options.fresh ? this.adapter.reuseShape?.(command) : undefined;
    const reusable = shape === undefined ? undefined : this.reuse?.lookup(shape);
    if (reusable && this.staleReason(reusable, true) === undefined) return { allowed: true, answer: reusable, reused: true };

    const answer = await this.authorizer.authorize(this.adapter.action(command), this.context(), {
      ...(options.deferApproval ? { deferApproval: true } : {}),
      ...(options.approvalWaitMs === undefined ? {} : { approvalWaitMs: options.approvalWaitMs }),
    });
    if (answer.source === 'pdp') this.latestRevision = answer.policy_revision;
    if (options.deferApproval && answer.effect === 'approval_required') {
      this.reuse?.observe(undefined, answer);
      return { allowed: true, answer, reused: false, approvalDeferred: true };
    }
    const verdict = this.enforceable(command, answer);
    // Only what actually runs is kept for its shape; every answer still tells the cache the policy revision.
    this.reuse?.observe(verdict.allowed ? shape : undefined, answer);
    return verdict;
  }

  /**
   * Decide, run, record: for PEPs whose command is one exchange (an SSH exec, a Kubernetes
   * request, an MCP tool call). `execute` runs the allowed command upstream, applying the
   * answer's masks to what it relays. A refused command never reaches `execute`.
   */
  async run(command: Command, execute: (answer: DecisionAnswer<Mask>) => Promise<CommandOutcome>, options: Omit<GateDecideOptions, 'deferApproval'> = {}): Promise<GateRun<Refused, Mask>> {
    const verdict = await this.decide(command, options);
    if (!verdict.allowed) return { ran: false, refusal: verdict.refusal };
    const startedAt = this.clock();
    let outcome: CommandOutcome;
    try {
      outcome = await execute(verdict.answer);
    } catch (error) {
      // It may have run in part: it is on the record either way.
      this.recordRun(command, verdict, { status: 'failure', error: error instanceof Error ? error.message : String(error) }, startedAt);
      throw error;
    }
    this.recordRun(command, verdict, outcome, startedAt);
    return { ran: true, answer: verdict.answer, outcome };
  }

  /** A command that ran, for PEPs that relay its answer apart from the decision (Postgres pipelines them). */
  record(record: StatementRecord): void {
    this.options.recorder?.statement(record);
  }

  /** Why an answer held since an earlier command no longer holds (undefined: it holds). */
  staleReason(answer: DecisionAnswer<Mask>, reused: boolean): StaleDecisionReason | undefined {
    return staleDecisionReason(answer, { reused, latestRevision: this.latestRevision, now: Date.now() });
  }

  private canRecord(): true | Promise<boolean> {
    const recorder = this.options.recorder;
    if (recorder === undefined || recorder.canRecord()) return true;
    return recorder.waitToRecord(this.options.recordWaitMs ?? DEFAULT_RECORD_WAIT_MS);
  }

  /** An allow this PEP can honour, or the adapter's refusal. */
  private enforceable(command: Command, answer: DecisionAnswer<Mask>): GateVerdict<Refused, Mask> {
    if (answer.effect !== 'allow') return this.refuse({ reason: 'decision', answer, refusal: refusalFor(answer)! }, command);
    // The PDP may accept a token a little past its expiry (clock skew); nothing runs on it here.
    if (this.staleReason(answer, false) === 'token-expired') return this.refuse({ reason: 'token-expired', answer }, command);
    if (!this.adapter.canMask(answer.obligations.mask, command)) return this.refuse({ reason: 'masking-unavailable', answer }, command);
    return { allowed: true, answer, reused: false };
  }

  private refuse(refusal: GateRefusal<Mask>, command: Command): GateVerdict<Refused, Mask> {
    return { allowed: false, refusal: this.adapter.refuse(refusal, command) };
  }

  private recordRun(command: Command, verdict: { readonly answer: DecisionAnswer<Mask>; readonly reused: boolean }, outcome: CommandOutcome, startedAt: number): void {
    const description = this.adapter.describe(command);
    const kind = outcome.kind ?? description.kind;
    this.record({
      text: description.text,
      ...(kind === undefined ? {} : { kind }),
      ...(description.method === undefined ? {} : { method: description.method }),
      ...(description.path === undefined ? {} : { path: description.path }),
      decisionId: verdict.answer.decision_id,
      ...(verdict.reused ? { decisionReused: true } : {}),
      status: outcome.status,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      durationMs: this.clock() - startedAt,
      ...(outcome.rows === undefined ? {} : { rows: outcome.rows }),
      ...(outcome.bytes === undefined ? {} : { bytes: outcome.bytes }),
      ...(outcome.masked === undefined ? {} : { maskedCells: outcome.masked }),
    });
  }
}
