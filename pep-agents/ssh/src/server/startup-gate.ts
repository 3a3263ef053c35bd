/**
 * Bounds connections that have not logged in yet, in all and per source address (as sshd's
 * MaxStartups and PerSourceMaxStartups do): without it, idle TCP connections that never log in
 * fill the connection limit and lock everyone out, no credential needed. A connection holds its
 * place from accept until it logs in or closes.
 */
export class StartupGate {
  private total = 0;
  private readonly bySource = new Map<string, number>();

  constructor(
    private readonly maxStartups: number,
    private readonly maxPerSource: number,
  ) {}

  /** A place for a new connection from `source`, or undefined when it must be closed now. The release runs once. */
  enter(source: string): (() => void) | undefined {
    const fromSource = this.bySource.get(source) ?? 0;
    if (this.total >= this.maxStartups || fromSource >= this.maxPerSource) return undefined;
    this.total += 1;
    this.bySource.set(source, fromSource + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.bySource.get(source) ?? 1) - 1;
      if (left === 0) this.bySource.delete(source);
      else this.bySource.set(source, left);
    };
  }
}
