import type { AuditRecord, AuditSink, AuditSinkHealth } from './audit-sink.ts';
import type { AuditStream } from '../audit-event.ts';

/**
 * Accepts and forgets every record. Only for measuring what auditing costs (bench:audit's
 * baseline); the PDP warns loudly at start when it is configured.
 */
export class DiscardAuditSink implements AuditSink {
  private discarded = 0;

  hasCapacity(): boolean {
    return true;
  }

  append(_record: AuditRecord, _admitted?: boolean): boolean {
    this.discarded += 1;
    return true;
  }

  async flush(): Promise<void> {}

  /** Forgotten at once: "durable" as soon as appended. */
  progress(): { appended: number; durable: number } {
    return { appended: this.discarded, durable: this.discarded };
  }

  onProgress(_listener: () => void): void {}

  async close(): Promise<void> {}

  storedTails(): Partial<Record<AuditStream, string>> {
    return {};
  }

  health(): AuditSinkHealth {
    return { sink: 'discard (no audit trail: benchmark baseline only)', status: 'degraded', queued: 0, written: 0, rejected: 0, details: { discarded: this.discarded } };
  }
}
