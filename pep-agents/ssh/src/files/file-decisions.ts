import {
  ByteStreamMasker,
  CommandGate,
  staleDecisionReason,
  type ActionAuthorizer,
  type AuthorizeContext,
  type ByteStreamMaskV1,
  type CommandOutcome,
  type DecisionAnswer,
  type DecisionReuseCache,
  type LogFunction,
  type MaskStrategyRegistry,
  type SessionRecorder,
} from '@portcullis/pep-core';
import type { FileOperation } from './file-operation.ts';
import { FILE_STREAM, fileMasks, FileProtocolAdapter, type FileRefusal } from './file-protocol-adapter.ts';

/** What the SSH session hands its file side: how to decide, whom to record to, how to mask. */
export interface FileSessionDependencies {
  /** Decides actions for this PEP's resource (byte-stream masks are the only kind the SSH PEP reads). */
  readonly authorizer: ActionAuthorizer<ByteStreamMaskV1>;
  /** The caller's token and session as they are now (the file channel tells the client itself). */
  readonly context: () => Omit<AuthorizeContext, 'notify' | 'signal'>;
  readonly recorder?: SessionRecorder;
  readonly reuse?: DecisionReuseCache<ByteStreamMaskV1>;
  readonly strategies: MaskStrategyRegistry;
  readonly log?: LogFunction;
}

/** An allowed file operation whose work spans several requests (an open file or directory). */
export interface HeldDecision {
  readonly operation: FileOperation;
  readonly answer: DecisionAnswer<ByteStreamMaskV1>;
  readonly reused: boolean;
  readonly startedAt: number;
}

export type HeldVerdict = { readonly allowed: true; readonly held: HeldDecision } | { readonly allowed: false; readonly refusal: FileRefusal };

/**
 * Every file operation's way through the SDK's command gate: one decision per operation, the
 * answer held for the life of an open handle, and one session entry per operation once it is over.
 */
export class FileDecisions {
  private readonly gate: CommandGate<FileOperation, FileRefusal, ByteStreamMaskV1>;
  private readonly adapter = new FileProtocolAdapter();

  constructor(
    private readonly dependencies: FileSessionDependencies,
    notify: (message: string) => void,
    /** Ends decisions and approval waits when the client's channel goes away. */
    signal?: AbortSignal,
  ) {
    this.gate = new CommandGate(this.adapter, dependencies.authorizer, () => ({ ...dependencies.context(), notify, ...(signal ? { signal } : {}) }), {
      ...(dependencies.recorder ? { recorder: dependencies.recorder } : {}),
      ...(dependencies.reuse ? { reuse: dependencies.reuse } : {}),
    });
  }

  /** Decide one operation that is a single request; `execute` runs only when it is allowed. */
  run(operation: FileOperation, execute: (answer: DecisionAnswer<ByteStreamMaskV1>) => Promise<CommandOutcome>) {
    return this.gate.run(operation, execute);
  }

  /** Decide an operation whose work spans requests; `finish` records it when it is over. */
  async hold(operation: FileOperation): Promise<HeldVerdict> {
    const verdict = await this.gate.decide(operation);
    if (!verdict.allowed) return { allowed: false, refusal: verdict.refusal };
    return { allowed: true, held: { operation, answer: verdict.answer, reused: verdict.reused, startedAt: performance.now() } };
  }

  /** The session entry of a held operation, once it is over. */
  finish(held: HeldDecision, outcome: CommandOutcome): void {
    const description = this.adapter.describe(held.operation);
    this.gate.record({
      text: description.text,
      kind: description.kind ?? held.operation.operation,
      method: held.operation.protocol,
      path: held.operation.path,
      decisionId: held.answer.decision_id,
      ...(held.reused ? { decisionReused: true } : {}),
      status: outcome.status,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      durationMs: performance.now() - held.startedAt,
      ...(outcome.rows === undefined ? {} : { rows: outcome.rows }),
      ...(outcome.bytes === undefined ? {} : { bytes: outcome.bytes }),
      ...(outcome.masked === undefined ? {} : { maskedCells: outcome.masked }),
    });
  }

  /** Why a held decision no longer covers one more request on its handle (the token expired), or undefined. */
  expired(held: HeldDecision): FileRefusal | undefined {
    if (staleDecisionReason(held.answer, { reused: false, latestRevision: undefined, now: Date.now() }) !== 'token-expired') return undefined;
    return this.adapter.refuse({ reason: 'token-expired', answer: held.answer });
  }

  /** The masker for what this held read sends back, or undefined when no mask applies to files. */
  masker(held: HeldDecision): ByteStreamMasker | undefined {
    const masks = fileMasks(held.answer.obligations.mask);
    return masks.length === 0 ? undefined : ByteStreamMasker.for(masks, FILE_STREAM, this.dependencies.strategies);
  }

  log(message: string, fields?: Record<string, unknown>): void {
    this.dependencies.log?.(message, fields);
  }
}
