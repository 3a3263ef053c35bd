/**
 * The last analyses, by exact text (a shell command, a SQL statement): agents send the same few
 * texts over and over, and a parser costs tens to hundreds of microseconds a text. An analysis is
 * a pure function of the text, so a hit is the same answer; entries are frozen all the way down,
 * so no caller can change what a later decision reads (a write throws). Least recently used
 * entries go first.
 */
export class AnalysisCache<T extends object> {
  private readonly entries = new Map<string, T>();

  constructor(
    private readonly maxEntries: number,
    /** Longer texts are not kept: the bound is on memory as well as on count. */
    private readonly maxKeyLength: number,
  ) {}

  get(text: string): T | undefined {
    const hit = this.entries.get(text);
    if (hit === undefined) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(text);
    this.entries.set(text, hit);
    return hit;
  }

  /** Keeps `value` (frozen) when the text is short enough, and returns it. */
  remember(text: string, value: T): T {
    if (text.length > this.maxKeyLength || this.maxEntries <= 0) return value;
    const frozen = deepFreeze(value);
    this.entries.set(text, frozen);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return frozen;
  }

  get size(): number {
    return this.entries.size;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
