/**
 * The values masked so far in one client session, so that an error or notice that later quotes
 * one (`invalid input syntax for type integer: "jane@example.com"`, `Key (email)=(…)`) can be
 * scrubbed too. Bounded: the oldest values are forgotten first. The values stay in this process's
 * memory only; nothing here is ever logged.
 */
const DEFAULT_MAX_VALUES = 5_000;
/** Shorter values would match all over ordinary messages ("1", "yes"). */
const MIN_LENGTH = 4;
/** Longer values are remembered by their start, which is what a message quoting them shows first. */
const MAX_LENGTH = 512;

export class MaskedValueMemory {
  /** Lower-case value → itself; a Map keeps insertion order, which is the eviction order. */
  private readonly values = new Map<string, string>();

  constructor(private readonly maxValues = DEFAULT_MAX_VALUES) {}

  get size(): number {
    return this.values.size;
  }

  remember(value: string): void {
    const trimmed = value.trim();
    if (trimmed.length < MIN_LENGTH) return;
    const key = trimmed.slice(0, MAX_LENGTH).toLowerCase();
    if (this.values.has(key)) {
      this.values.delete(key);
    } else if (this.values.size >= this.maxValues) {
      const oldest = this.values.keys().next().value;
      if (oldest !== undefined) this.values.delete(oldest);
    }
    this.values.set(key, key);
  }

  /** `text` with every remembered value (compared without case) replaced by `replacement`. */
  scrub(text: string, replacement: string): string {
    if (this.values.size === 0 || text.length < MIN_LENGTH) return text;
    let lower = text.toLowerCase();
    // toLowerCase can change lengths (rare letters); then positions would not line up.
    if (lower.length !== text.length) return this.scrubByCase(text, replacement);
    let out = text;
    for (const value of this.values.keys()) {
      let at = lower.indexOf(value);
      while (at !== -1) {
        out = out.slice(0, at) + replacement + out.slice(at + value.length);
        lower = lower.slice(0, at) + replacement.toLowerCase() + lower.slice(at + value.length);
        at = lower.indexOf(value, at + replacement.length);
      }
    }
    return out;
  }

  private scrubByCase(text: string, replacement: string): string {
    let out = text;
    for (const value of this.values.keys()) out = out.split(value).join(replacement);
    return out;
  }
}
