import type { DecisionAnswer, MaskObligationV1, MaskTargetV1 } from './decision-contract.ts';

export interface DecisionReuseCacheOptions {
  /** Shapes remembered at most; the least recently used one goes first. */
  readonly maxEntries?: number;
  /** The clock, in ms since the epoch (tests move it). */
  readonly now?: () => number;
}

interface ReusableAnswer<Mask extends MaskTargetV1> {
  readonly answer: DecisionAnswer<Mask>;
  readonly expiresAt: number;
}

const DEFAULT_MAX_ENTRIES = 256;

/**
 * Allows the PDP said may stand for more commands of the same shape (`reuse`), held by a PEP for
 * one session: the key is the protocol's shape of the command (for SQL, its text with literal
 * values blanked), which the PEP computes. Nothing is kept past the grant's `expires_at`, and an
 * answer under another policy revision empties the cache, so a new policy applies at once to
 * every shape the PEP asks about again.
 */
export class DecisionReuseCache<Mask extends MaskTargetV1 = MaskObligationV1> {
  private readonly entries = new Map<string, ReusableAnswer<Mask>>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private revision: string | null | undefined;

  constructor(options: DecisionReuseCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The allow that stands for this shape now, if any. */
  lookup(shape: string): DecisionAnswer<Mask> | undefined {
    const entry = this.entries.get(shape);
    if (!entry) return undefined;
    this.entries.delete(shape);
    if (entry.expiresAt <= this.now()) return undefined;
    // Re-inserted last: Map order is the recency order.
    this.entries.set(shape, entry);
    return entry.answer;
  }

  /** Every answer the PDP gives passes here: reusable allows are kept, a new revision clears the rest. */
  observe(shape: string | undefined, answer: DecisionAnswer<Mask>): void {
    if (answer.source !== 'pdp') return;
    if (this.revision !== undefined && answer.policy_revision !== this.revision) this.entries.clear();
    this.revision = answer.policy_revision;
    if (shape === undefined || answer.effect !== 'allow' || !answer.reuse) return;
    // Never past the subject token's own expiry either.
    const tokenExpiry = answer.principal.expires_at === undefined ? Infinity : Date.parse(answer.principal.expires_at);
    const expiresAt = Math.min(Date.parse(answer.reuse.expires_at), Number.isNaN(tokenExpiry) ? -Infinity : tokenExpiry);
    if (!Number.isFinite(expiresAt) || expiresAt <= this.now()) return;
    this.entries.delete(shape);
    this.entries.set(shape, { answer, expiresAt });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
