import type { OutgoingHttpHeaders } from 'node:http';

export interface CachedAnswer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

/** Bodies larger than this are not kept (the OpenAPI v2 document of a big cluster can be large). */
const MAX_CACHED_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Discovery and OpenAPI answers of the API server, kept for a short time by target and the
 * headers that choose the representation. Each request is still decided; only the API server is
 * spared the same answer over and over (every kubectl run reads discovery first).
 */
export class DiscoveryCache {
  private readonly entries = new Map<string, { readonly answer: CachedAnswer; readonly until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  static key(target: string, accept: string | undefined, acceptEncoding: string | undefined): string {
    return `${target}\u0000${accept ?? ''}\u0000${acceptEncoding ?? ''}`;
  }

  get(key: string): CachedAnswer | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > this.now()) return entry.answer;
    this.entries.delete(key);
    return undefined;
  }

  put(key: string, answer: CachedAnswer): void {
    if (!this.enabled || answer.status !== 200 || answer.body.length > MAX_CACHED_BODY_BYTES) return;
    // Bounded by the distinct discovery targets a cluster has; expired ones make way first.
    if (this.entries.size >= 1024) {
      for (const [entryKey, entry] of this.entries) if (entry.until <= this.now()) this.entries.delete(entryKey);
      if (this.entries.size >= 1024) this.entries.clear();
    }
    this.entries.set(key, { answer, until: this.now() + this.ttlMs });
  }
}
