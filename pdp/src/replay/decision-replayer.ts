import { canonicalJson } from '../audit/trail/canonical-json.ts';
import { DECISION_ENTRYPOINT } from '../decisions/decision-service.ts';
import { denied, readPolicyOutcome } from '../decisions/policy-result.ts';
import { OpaWasmEngine } from '../policy/opa-wasm-engine.ts';
import type { PolicyBundle } from '../policy/policy-bundle.ts';
import { policyInputOfRecord, withheldFromInput } from './policy-input-of-record.ts';
import { recordedPolicyOutcome, type ReplayOutcome } from './recorded-policy-outcome.ts';

export type { ReplayOutcome } from './recorded-policy-outcome.ts';

/** One member in which the replayed outcome is not the recorded one. */
export interface ReplayDifference {
  readonly member: 'effect' | 'reasons' | 'obligations' | 'approval';
  readonly recorded: unknown;
  readonly replayed: unknown;
}

export interface ReplayResult {
  /** Policy's own outcome as the record states it. */
  readonly recorded: ReplayOutcome;
  /** What the bundle says for the same input now. */
  readonly replayed: ReplayOutcome;
  /** Empty when the decision is re-verified. */
  readonly differences: readonly ReplayDifference[];
  /** Input members the trail withheld as credentials: a difference may come from their absence. */
  readonly withheld: readonly string[];
  /**
   * Why the bundle's evaluation failed (it threw, or ran past the time limit), when it did:
   * `replayed` is then the deny the PDP would have answered, not an outcome of the policy.
   */
  readonly evaluationError?: string;
}

export interface DecisionReplayerOptions {
  /** An evaluation running longer than this is abandoned (as in the PDP). Default 5000 ms. */
  readonly evalTimeoutMs?: number;
}

/**
 * Evaluates a recorded decision's input again, with a given bundle, through the engine the PDP
 * answers with (opa-wasm in a worker thread), read with the PDP's own reading of the result, and
 * compares the outcome with the one recorded. A bundle that is not given stands for "no policy
 * was loaded", as it did for a record without a revision.
 */
export class DecisionReplayer {
  private readonly engine: OpaWasmEngine;
  private loaded: PolicyBundle | undefined;

  constructor(options: DecisionReplayerOptions = {}) {
    this.engine = new OpaWasmEngine({ workers: 1, evalTimeoutMs: options.evalTimeoutMs ?? 5000, batching: 'bulk' });
  }

  async replay(record: unknown, bundle: PolicyBundle | undefined): Promise<ReplayResult> {
    const input = policyInputOfRecord(record);
    const recorded = recordedPolicyOutcome(record);
    const { outcome: replayed, error } = await this.evaluate(JSON.stringify(input), bundle);
    return { recorded, replayed, differences: differencesBetween(recorded, replayed), withheld: withheldFromInput(record), ...(error === undefined ? {} : { evaluationError: error }) };
  }

  async close(): Promise<void> {
    await this.engine.close();
  }

  private async evaluate(inputJson: string, bundle: PolicyBundle | undefined): Promise<{ outcome: ReplayOutcome; error?: string }> {
    if (!bundle) return { outcome: denied('policy-not-loaded', 'no policy is loaded: every action is denied until one is') };
    // The same bundle object is prepared once; a replay of many records mostly stays on one.
    if (this.loaded !== bundle) {
      await this.engine.load(bundle);
      this.loaded = bundle;
    }
    try {
      const { approval, effect, reasons, obligations } = readPolicyOutcome((await this.engine.evaluate(DECISION_ENTRYPOINT, inputJson)).result);
      return { outcome: { effect, reasons, obligations, ...(approval ? { approval } : {}) } };
    } catch (error) {
      const message = (error as Error).message;
      return { outcome: denied('policy-error', `policy evaluation failed: ${message}`), error: message };
    }
  }
}

/** Effect, reasons (in order), obligations and, where approval is required, the requirement. */
export function differencesBetween(recorded: ReplayOutcome, replayed: ReplayOutcome): ReplayDifference[] {
  const differences: ReplayDifference[] = [];
  const compare = (member: ReplayDifference['member'], left: unknown, right: unknown): void => {
    if (canonicalJson(left ?? null) !== canonicalJson(right ?? null)) differences.push({ member, recorded: left, replayed: right });
  };
  compare('effect', recorded.effect, replayed.effect);
  compare('reasons', recorded.reasons, replayed.reasons);
  compare('obligations', recorded.obligations, replayed.obligations);
  if (recorded.effect === 'approval_required' || replayed.effect === 'approval_required') compare('approval', recorded.approval, replayed.approval);
  return differences;
}
