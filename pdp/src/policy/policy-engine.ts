import type { PolicyBundle } from './policy-bundle.ts';

/** The seam between the decision core and whatever evaluates Rego. */
export interface PolicyEngine {
  /**
   * Prepares the bundle completely, then makes it the one that answers. When preparing fails,
   * the bundle that was serving keeps serving and the error is thrown.
   */
  load(bundle: PolicyBundle): Promise<void>;
  /** Evaluates an entrypoint (`portcullis/decision`) on input given as JSON text. */
  evaluate(entrypoint: string, inputJson: string): Promise<PolicyEvaluation>;
  /** Revision of the bundle that answers now; undefined before the first load. */
  readonly revision: string | undefined;
  readonly entrypoints: readonly string[];
  close(): Promise<void>;
}

export interface PolicyEvaluation {
  /** The entrypoint's value; undefined when the rule is undefined for this input. */
  readonly result: unknown;
  readonly revision: string;
  /** Time spent inside the policy evaluation itself, in microseconds. */
  readonly evalMicros: number;
}

export class PolicyNotLoadedError extends Error {
  constructor() {
    super('no policy bundle is loaded');
    this.name = 'PolicyNotLoadedError';
  }
}

export class UnknownEntrypointError extends Error {
  constructor(readonly entrypoint: string) {
    super(`entrypoint ${entrypoint} is not in the loaded bundle`);
    this.name = 'UnknownEntrypointError';
  }
}
