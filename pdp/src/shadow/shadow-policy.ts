import type { AuditRecorder } from '../audit/trail/audit-trail.ts';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import type { BundleSource } from '../policy/bundle-sources/bundle-source.ts';
import type { BundleVerifier } from '../policy/bundle-signature-verifier.ts';
import { OpaWasmEngine } from '../policy/opa-wasm-engine.ts';
import { PolicyActivation, type BundleActivationFacts, type BundleStatus } from '../policy/policy-activation.ts';
import { RecentDifferences, type RecentDifference } from './recent-differences.ts';
import { ShadowEvaluator, type ShadowCounts } from './shadow-evaluator.ts';

export interface ShadowPolicyOptions {
  /** Builds the candidate's source; may fail (no opa to compile a folder): the shadow is then failed, the PDP serves on. */
  readonly createSource: () => Promise<BundleSource>;
  /** What the source is, for the status before it could be built. */
  readonly description: string;
  readonly verifier: BundleVerifier | undefined;
  /** Records the candidate's activation (marked shadow) durably before it is evaluated. */
  readonly attest?: (facts: BundleActivationFacts) => Promise<void>;
  readonly workers: number;
  /** Linux niceness of the shadow's worker threads: they yield the cores to the live path. */
  readonly niceness: number;
  readonly evalTimeoutMs: number;
  readonly maxQueued: number;
  readonly audit: Pick<AuditRecorder, 'record'>;
  readonly metrics: PdpMetrics;
  readonly log: (message: string) => void;
}

/** The shadow as GET /v1/policy shows it. */
export interface ShadowStatus {
  readonly bundle: BundleStatus;
  readonly evaluations: Readonly<ShadowCounts>;
  readonly queued: number;
  readonly max_queued: number;
  readonly last_evaluation_error: { readonly message: string; readonly at: string } | null;
}

/** How many differences the console can see without reading the trail. */
const RECENT_DIFFERENCES = 100;

/**
 * A candidate policy beside the live one: its own bundle source, activation and engine (its own
 * worker threads), and the evaluator the decision path tells of each decision. Nothing here can
 * change a live answer: it never sees one until it is final, and its failures stay inside.
 */
export class ShadowPolicy {
  private readonly engine: OpaWasmEngine;
  private readonly recentDifferences = new RecentDifferences(RECENT_DIFFERENCES);
  readonly evaluator: ShadowEvaluator;
  private activation: PolicyActivation | undefined;
  private setupError: { message: string; at: string } | null = null;
  private stopped = false;

  constructor(private readonly options: ShadowPolicyOptions) {
    this.engine = new OpaWasmEngine({ workers: options.workers, evalTimeoutMs: options.evalTimeoutMs, niceness: options.niceness, batching: 'bulk' });
    this.evaluator = new ShadowEvaluator({
      engine: this.engine,
      audit: options.audit,
      metrics: options.metrics,
      recent: this.recentDifferences,
      maxQueued: options.maxQueued,
      maxInFlight: options.workers * 4,
      log: options.log,
    });
    options.metrics.observeShadow(() => this.evaluator.depth);
  }

  /** Starts loading the candidate; never rejects: a shadow that cannot load is a status, not a fault of the PDP. */
  async start(): Promise<void> {
    const { log } = this.options;
    let source: BundleSource;
    try {
      source = await this.options.createSource();
    } catch (error) {
      this.setupError = { message: (error as Error).message.slice(0, 2000), at: new Date().toISOString() };
      log(`shadow: the candidate's source cannot be set up (${this.setupError.message}); no shadow evaluation`);
      return;
    }
    if (this.stopped) return;
    this.activation = new PolicyActivation({
      source,
      engine: this.engine,
      verifier: this.options.verifier,
      metrics: this.options.metrics.shadowBundle,
      log: (message) => log(`shadow: ${message}`),
      ...(this.options.attest ? { attest: this.options.attest } : {}),
    });
    try {
      await this.activation.start();
    } catch {
      // Recorded in the activation's status and logged there; the source keeps trying.
    }
  }

  status(): ShadowStatus {
    const bundle: BundleStatus = this.activation?.current ?? {
      source: this.options.description,
      state: this.setupError ? 'failed' : 'loading',
      revision: null,
      activatedAt: null,
      lastError: this.setupError,
    };
    return {
      bundle,
      evaluations: { ...this.evaluator.counts },
      queued: this.evaluator.depth,
      max_queued: this.options.maxQueued,
      last_evaluation_error: this.evaluator.lastEvaluationError,
    };
  }

  /** The last differences, newest first. */
  recent(): RecentDifference[] {
    return this.recentDifferences.list();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.activation?.stop();
    await this.engine.close();
  }
}
