import type { SessionEventV1 } from '@portcullis/contract';
import type { SessionEventSink, SessionSinkStats } from './session-event-sink.ts';

/** Keeps events in memory, for a PEP run without a PDP record (development) and for reading back in tests. */
export class MemorySessionEventSink implements SessionEventSink {
  private readonly recorded: SessionEventV1[] = [];
  private closed = false;
  private dropped = 0;

  constructor(private readonly maxEvents = 100_000) {}

  get events(): readonly SessionEventV1[] {
    return this.recorded;
  }

  hasCapacity(): boolean {
    return true;
  }

  async waitForCapacity(): Promise<boolean> {
    return !this.closed;
  }

  submit(event: SessionEventV1): boolean {
    if (this.closed || this.recorded.length >= this.maxEvents) {
      this.dropped += 1;
      return false;
    }
    this.recorded.push(event);
    return true;
  }

  async flush(): Promise<void> {}

  async close(): Promise<SessionSinkStats> {
    this.closed = true;
    return this.stats();
  }

  stats(): SessionSinkStats {
    const count = this.recorded.length;
    return { submitted: count + this.dropped, shipped: count, dropped: this.dropped, rejected: 0, lost: 0, pending: 0 };
  }
}
