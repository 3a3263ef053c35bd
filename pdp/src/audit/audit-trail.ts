import type { AuditEvent, AuditRecord, AuditSink, AuditSinkHealth } from './audit-sink.ts';
import type { DigestRecord } from './digest-record.ts';
import type { DigestSigner } from './digest-signer.ts';
import type { HashChain } from './hash-chain.ts';
import { toOcsfRecord, type OcsfProduct } from './ocsf-record.ts';

export interface AuditTrailOptions {
  readonly sink: AuditSink;
  readonly chain: HashChain;
  readonly digests: DigestSigner;
  readonly product: OcsfProduct;
  readonly digestIntervalMs: number;
  readonly log: (message: string) => void;
}

export const AUDIT_SCHEMA = 'audit.v1';

/** What the decision core needs of the audit trail. */
export interface AuditRecorder {
  /** False when the event cannot be recorded: the caller must fail closed. */
  record(event: AuditEvent): boolean;
}

/**
 * The one way into the audit trail: every event becomes an OCSF record, takes the next link of
 * its stream's hash chain, and is handed to the sink, in that order, on one thread. At an
 * interval (and on close) the signed digests of what was linked go to the digests stream.
 */
export class AuditTrail implements AuditRecorder {
  private readonly timer: NodeJS.Timeout;
  private digesting: Promise<void> = Promise.resolve();
  private digestFailures = 0;

  constructor(private readonly options: AuditTrailOptions) {
    this.timer = setInterval(() => void this.emitDigests(), options.digestIntervalMs);
    this.timer.unref();
  }

  get producerId(): string {
    return this.options.chain.producerId;
  }

  /**
   * Records an event; false when the sink cannot take it (the caller fails closed). The chain
   * only advances for a record the sink accepted, so a refusal never leaves a gap.
   */
  record(event: AuditEvent, admitted = false): boolean {
    const { sink, chain, digests, product } = this.options;
    if (!admitted && !sink.hasCapacity()) return false;
    const linked = chain.link(event.stream, toOcsfRecord(event, product));
    const accepted = sink.append({
      stream: event.stream,
      key: event.key,
      headers: {
        'ocsf-class-uid': String(linked.class_uid),
        'portcullis-schema': AUDIT_SCHEMA,
        'portcullis-stream': event.stream,
        'portcullis-producer': chain.producerId,
        'content-type': 'application/json',
      },
      json: JSON.stringify(linked),
    }, admitted);
    if (!accepted) throw new Error('audit sink refused a record after reporting capacity');
    digests.append(linked);
    return true;
  }

  flush(): Promise<void> {
    return this.options.sink.flush();
  }

  health(): AuditSinkHealth & { producer_id: string; digest_failures: number } {
    return { ...this.options.sink.health(), producer_id: this.producerId, digest_failures: this.digestFailures };
  }

  /** Final digests, then the sink: a clean stop leaves every record attested. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.emitDigests();
    await this.options.sink.close();
  }

  emitDigests(): Promise<void> {
    this.digesting = this.digesting.then(async () => {
      // A full sink takes no digest now; the signer keeps accumulating for the next round.
      if (!this.options.sink.hasCapacity()) return;
      try {
        for (const digest of await this.options.digests.digestAll()) this.options.sink.append(digestRecord(digest, this.producerId));
      } catch (error) {
        this.digestFailures += 1;
        this.options.log(`audit: could not sign a digest: ${(error as Error).message}`);
      }
    });
    return this.digesting;
  }
}

function digestRecord(digest: DigestRecord, producerId: string): AuditRecord {
  return {
    stream: 'digests',
    key: `${producerId}/${digest.stream}`,
    headers: { 'portcullis-schema': AUDIT_SCHEMA, 'portcullis-stream': 'digests', 'portcullis-producer': producerId, 'content-type': 'application/json' },
    json: JSON.stringify(digest),
  };
}
