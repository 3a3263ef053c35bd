import type { BundleMetrics } from '../metrics/pdp-metrics.ts';
import type { BundleSource } from './bundle-sources/bundle-source.ts';
import { bundleDigest } from './bundle-archive/bundle-archive-layout.ts';
import { SIGNATURES_PATH, type BundleSignature, type BundleVerifier } from './bundle-signature-verifier.ts';
import { parsePolicyBundle, type PolicyBundle } from './policy-bundle.ts';
import type { PolicyEngine } from './policy-engine.ts';

export interface BundleStatus {
  readonly source: string;
  readonly state: 'loading' | 'active' | 'failed';
  readonly revision: string | null;
  readonly activatedAt: string | null;
  /** The last update that failed; the previous bundle keeps serving. */
  readonly lastError: { readonly message: string; readonly at: string } | null;
}

/** What is known of a bundle about to answer: what the "bundle activated" audit record states. */
export interface BundleActivationFacts {
  readonly revision: string;
  /** `sha256:<hex>` of the exact archive bytes activated (and archived). */
  readonly digest: string;
  readonly sizeBytes: number;
  /** The revision that answered until now; null for the first bundle of this process. */
  readonly previousRevision: string | null;
  /** The signature verified with the configured key; null when no key is configured (not checked). */
  readonly signature: BundleSignature | null;
  /** Whether the archive carries a signature file at all (checked or not). */
  readonly carriesSignature: boolean;
}

export interface PolicyActivationOptions {
  readonly source: BundleSource;
  readonly engine: PolicyEngine;
  readonly verifier: BundleVerifier | undefined;
  readonly metrics: BundleMetrics;
  readonly log: (message: string) => void;
  /** Told of each bundle once it answers, for what reads the bundle's data outside policy (MCP argument kinds). */
  readonly onActivated?: (bundle: PolicyBundle) => void;
  /** Keeps the verified archive before it answers (bundle-archive/): a failure leaves the serving bundle in place. */
  readonly keep?: (archive: Buffer, bundle: PolicyBundle) => Promise<void>;
  /**
   * Makes the activation durable in the audit trail before the bundle answers (as a decision's
   * record is before its answer); a rejection leaves the serving bundle in place.
   */
  readonly attest?: (facts: BundleActivationFacts) => Promise<void>;
}

/**
 * Turns archives from a source into the engine's active policy: verify the signature, parse,
 * keep the archive, record the activation durably, prepare every worker, then swap. Any failure
 * leaves the bundle that was serving in place.
 */
export class PolicyActivation {
  private status: BundleStatus;
  // A source may report an error its onBundle callback already threw: count each once.
  private readonly recorded = new WeakSet<Error>();
  private readonly source: BundleSource;
  private readonly engine: PolicyEngine;
  private readonly metrics: BundleMetrics;
  private readonly log: (message: string) => void;

  constructor(private readonly options: PolicyActivationOptions) {
    ({ source: this.source, engine: this.engine, metrics: this.metrics, log: this.log } = options);
    this.status = { source: this.source.description, state: 'loading', revision: null, activatedAt: null, lastError: null };
  }

  get current(): BundleStatus {
    return this.status;
  }

  /** Resolves after the first bundle is active; rejects when the first one fails. */
  start(): Promise<void> {
    return this.source.start(
      (archive) => this.activate(archive),
      (error) => this.recordFailure(error),
    );
  }

  stop(): Promise<void> {
    return this.source.stop();
  }

  private async activate(archive: Buffer): Promise<void> {
    try {
      const bundle = parsePolicyBundle(archive);
      const signature = this.options.verifier ? await this.options.verifier.verify(bundle.files) : null;
      if (bundle.revision === this.engine.revision) {
        // The serving revision again (a failed update was undone): healthy, nothing to swap.
        if (this.status.lastError) {
          this.status = { ...this.status, state: 'active', lastError: null };
          this.metrics.bundleHealthy.set(1);
          this.log(`policy bundle ${bundle.revision} confirmed again; the failed update is gone`);
        }
        return;
      }
      const previous = this.status.revision;
      await this.options.keep?.(archive, bundle);
      await this.options.attest?.({
        revision: bundle.revision,
        digest: bundleDigest(archive),
        sizeBytes: bundle.sizeBytes,
        previousRevision: previous,
        signature,
        carriesSignature: bundle.files.some((file) => file.path === SIGNATURES_PATH),
      });
      await this.engine.load(bundle);
      this.options.onActivated?.(bundle);
      this.status = { ...this.status, state: 'active', revision: bundle.revision, activatedAt: new Date().toISOString(), lastError: null };
      if (previous) this.metrics.bundleActive.remove(previous);
      this.metrics.bundleActive.set({ revision: bundle.revision }, 1);
      this.metrics.bundleLastSuccess.setToCurrentTime();
      this.metrics.bundleHealthy.set(1);
      this.metrics.bundleLoads.inc({ result: 'success' });
      this.log(`policy bundle ${bundle.revision} active (${bundle.sizeBytes} bytes, from ${this.source.description})`);
    } catch (error) {
      this.recordFailure(error as Error);
      throw error;
    }
  }

  private recordFailure(error: Error): void {
    if (this.recorded.has(error)) return;
    this.recorded.add(error);
    const message = error.message.slice(0, 2000);
    this.status = {
      ...this.status,
      state: this.status.revision ? 'active' : 'failed',
      lastError: { message, at: new Date().toISOString() },
    };
    this.metrics.bundleHealthy.set(0);
    this.metrics.bundleLoads.inc({ result: 'failure' });
    this.log(`policy bundle update failed, ${this.status.revision ? `revision ${this.status.revision} keeps serving` : 'no policy is loaded'}: ${message}`);
  }
}
