import type { Settle } from './pending-responses.ts';

interface Proposal<T> {
  readonly value: T;
  /** The Sync count when it was sent: within one sync segment a failure makes the server skip the rest. */
  readonly segment: number;
  readonly settled: Promise<void>;
}

/**
 * The PEP's view of the server's named prepared statements or portals, each with what the PEP
 * decided about it. A Parse or Bind only counts once the server confirms it: a Parse that fails
 * (the name exists, the transaction is aborted) must not replace what the name really runs.
 * Within the same sync segment the proposed value is used at once (if it failed, the server skips
 * what follows); later segments wait for the confirmation.
 */
export class NameRegistry<T> {
  private readonly confirmed = new Map<string, T>();
  private readonly proposed = new Map<string, Proposal<T>>();

  /** Records a Parse/Bind just sent upstream; the returned function is called with the server's answer. */
  propose(name: string, value: T, segment: number): Settle {
    let release!: () => void;
    const proposal: Proposal<T> = { value, segment, settled: new Promise<void>((resolve) => (release = resolve)) };
    this.proposed.set(name, proposal);
    return (ok) => {
      if (ok) this.confirmed.set(name, value);
      if (this.proposed.get(name) === proposal) this.proposed.delete(name);
      release();
    };
  }

  /** What `name` runs for a message sent in `segment`; undefined when the PEP never saw it created. */
  async lookup(name: string, segment: number): Promise<T | undefined> {
    for (;;) {
      const proposal = this.proposed.get(name);
      if (!proposal) return this.confirmed.get(name);
      if (proposal.segment === segment) return proposal.value;
      await proposal.settled;
    }
  }

  /** Close: the name is gone (forgetting early is safe: an unknown name is refused). */
  forget(name: string): void {
    this.confirmed.delete(name);
    this.proposed.delete(name);
  }

  /** SQL changed names behind the protocol's back (PREPARE, DEALLOCATE, DECLARE, DISCARD …): trust none. */
  forgetConfirmed(): void {
    this.confirmed.clear();
  }

  get size(): number {
    return this.confirmed.size + this.proposed.size;
  }
}
