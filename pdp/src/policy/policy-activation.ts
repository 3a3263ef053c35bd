import type { BundleMetrics } from '../metrics/pdp-metrics.ts';
import type { BundleSource } from './bundle-sources/bundle-source.ts';
import type { BundleVerifier } from './bundle-signature-verifier.ts';
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

/**
 * Turns archives from a source into the engine's active policy: verify the signature, parse,
 * prepare every worker, then swap. Any failure leaves the bundle that was serving in place.
 */
export class PolicyActivation {
  private status: BundleStatus;
  // A source may report an error its onBundle callback already threw: count each once.
  private readonly recorded = new WeakSet<Error>();

  constructor(
    private readonly source: BundleSource,
    private readonly engine: PolicyEngine,
    private readonly verifier: BundleVerifier | undefined,
    private readonly metrics: BundleMetrics,
    private readonly log: (message: string) => void,
    /** Told of each bundle once it answers, for what reads the bundle's data outside policy (MCP argument kinds). */
    private readonly onActivated: (bundle: PolicyBundle) => void = () => {},
    /** Keeps the verified archive before it answers (bundle-archive/): a failure leaves the serving bundle in place. */
    private readonly keep: (archive: Buffer, bundle: PolicyBundle) => Promise<void> = async () => {},
  ) {
    this.status = { source: source.description, state: 'loading', revision: null, activatedAt: null, lastError: null };
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
      if (this.verifier) await this.verifier.verify(bundle.files);
      if (bundle.revision === this.engine.revision) {
        // The serving revision again (a failed update was undone): healthy, nothing to swap.
        if (this.status.lastError) {
          this.status = { ...this.status, state: 'active', lastError: null };
          this.metrics.bundleHealthy.set(1);
          this.log(`policy bundle ${bundle.revision} confirmed again; the failed update is gone`);
        }
        return;
      }
      await this.keep(archive, bundle);
      await this.engine.load(bundle);
      this.onActivated(bundle);
      const previous = this.status.revision;
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
