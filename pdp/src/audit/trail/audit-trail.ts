import type { AuditRecord, AuditSink, AuditSinkHealth } from './audit-sink.ts';
import type { AuditEvent, AuditStream } from '../audit-event.ts';
import type { DigestRecord } from './digest-record.ts';
import type { DigestSigner } from './digest-signer.ts';
import type { HashChain } from './hash-chain.ts';
import { toOcsfRecord, type OcsfProduct } from '../ocsf/ocsf-record.ts';
import type { CheckpointEvent, CheckpointRecord, SignedRetention, StreamPositions } from './producer-checkpoint.ts';
import { ProducerCheckpoints } from './producer-checkpoints.ts';
import type { ProducerLedger } from './producer-ledger.ts';

export interface AuditTrailOptions {
  readonly sink: AuditSink;
  readonly chain: HashChain;
  readonly digests: DigestSigner;
  readonly product: OcsfProduct;
  readonly digestIntervalMs: number;
  readonly durability: 'sync' | 'async';
  /** How long each stream is kept, as configured: signed in every checkpoint (NIST AU-11). */
  readonly retention?: SignedRetention;
  /** The runs seen on this state folder; this producer adds itself and keeps its position there. */
  readonly ledger: ProducerLedger;
  readonly log: (message: string) => void;
}


export const AUDIT_SCHEMA = 'audit.v1';

/** What the decision core needs of the audit trail. */
export interface AuditRecorder {
  /** False when the event cannot be recorded: the caller must fail closed. */
  record(event: AuditEvent): boolean;
  /**
   * Resolves once every event recorded so far is durable (at once when durability is async);
   * rejects when storing failed: the caller answers as if the record was refused.
   */
  durable(): Promise<void>;
}

/**
 * What the decision core needs: admission asked first, before any side effect (an approval
 * opened or consumed), so a refusal leaves nothing behind; then the admitted record, taken even
 * if the sink filled meanwhile (only a stopped trail refuses it, and durable() then rejects).
 */
export interface AdmittingAuditRecorder extends AuditRecorder {
  admits(): boolean;
  record(event: AuditEvent, admitted?: boolean): boolean;
}

/**
 * The one way into the audit trail: every event becomes an OCSF record, takes the next link of
 * its stream's hash chain, and is handed to the sink, in that order, on one thread. At an
 * interval (and on close) the signed digests of what was linked go to the digests stream,
 * followed by a signed checkpoint of this producer (start first, stop on close) naming where
 * its chains stand and every earlier run on this state (docs/audit-events.md).
 */
export class AuditTrail implements AdmittingAuditRecorder {
  private readonly timer: NodeJS.Timeout;
  private digesting: Promise<void> = Promise.resolve();
  private digestFailures = 0;
  private readonly checkpoints: ProducerCheckpoints;
  /** Per stream, the last record a signed digest attested: what checkpoints name. */
  private readonly attested: Partial<Record<AuditStream, { last_seq: number; last_hash: string }>> = {};

  constructor(private readonly options: AuditTrailOptions) {
    this.checkpoints = new ProducerCheckpoints({
      producerId: options.chain.producerId,
      digestIntervalMs: options.digestIntervalMs,
      durability: options.durability,
      ...(options.retention === undefined ? {} : { retention: options.retention }),
      sign: (payload) => options.digests.signPayload(payload),
    });
    this.timer = setInterval(() => void this.emitDigests('checkpoint'), options.digestIntervalMs);
    this.timer.unref();
  }

  /** Writes the signed start record (naming every earlier run, crashed ones up to their last record) before anything else is attested. */
  start(): Promise<void> {
    this.options.ledger.extendCrashedRuns(this.options.sink.storedTails());
    return this.emitDigests('start');
  }

  get producerId(): string {
    return this.options.chain.producerId;
  }

  admits(): boolean {
    return this.options.sink.hasCapacity();
  }

  /**
   * Records an event; false when the sink cannot take it (the caller fails closed). The chain
   * only advances for a record the sink accepted, so a refusal never leaves a gap.
   */
  record(event: AuditEvent, admitted = false): boolean {
    const { sink, chain, digests, product } = this.options;
    if (!admitted && !sink.hasCapacity()) return false;
    const { record: linked, line } = chain.linkLine(event.stream, toOcsfRecord(event, product));
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
      json: line,
    }, admitted);
    if (!accepted) throw new Error('audit sink refused a record after reporting capacity');
    digests.append(linked);
    return true;
  }

  flush(): Promise<void> {
    return this.options.sink.flush();
  }

  durable(): Promise<void> {
    return this.options.durability === 'sync' ? this.options.sink.flush() : Promise.resolve();
  }

  health(): AuditSinkHealth & { producer_id: string; digest_failures: number } {
    return { ...this.options.sink.health(), producer_id: this.producerId, digest_failures: this.digestFailures };
  }

  /** Final digests and the stop record, then the sink: a clean stop leaves every record attested. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.emitDigests('stop');
    await this.options.sink.close();
  }

  /** Digests of what was linked since the last ones, then the next checkpoint (start if none yet). */
  emitDigests(event: CheckpointEvent = 'checkpoint'): Promise<void> {
    this.digesting = this.digesting.then(async () => {
      // A full sink takes no digest now; the signer keeps accumulating for the next round.
      if (!this.options.sink.hasCapacity() && event !== 'stop') return;
      try {
        for (const digest of await this.options.digests.digestAll()) {
          this.options.sink.append(digestRecord(digest, this.producerId), true);
          if (digest.producer_id === this.producerId) this.attested[digest.stream] = { last_seq: digest.last_seq, last_hash: digest.last_hash };
        }
        if (!this.checkpoints.started) await this.emitCheckpoint('start');
        if (event !== 'start') await this.emitCheckpoint(event);
      } catch (error) {
        this.digestFailures += 1;
        this.options.log(`audit: could not sign a digest or checkpoint: ${(error as Error).message}`);
      }
    });
    return this.digesting;
  }

  private async emitCheckpoint(event: CheckpointEvent): Promise<void> {
    const { ledger, sink } = this.options;
    const streams: StreamPositions = { ...this.attested };
    const record = await this.checkpoints.next(event, streams, ledger.othersThan(this.producerId));
    sink.append(checkpointRecord(record), true);
    // The ledger only names a position once the checkpoint naming it (and its records) is stored.
    await sink.flush();
    ledger.update(this.producerId, streams, event === 'stop');
  }
}

function checkpointRecord(checkpoint: CheckpointRecord): AuditRecord {
  return {
    stream: 'digests',
    key: `${checkpoint.producer_id}/checkpoint`,
    headers: { 'portcullis-schema': AUDIT_SCHEMA, 'portcullis-stream': 'digests', 'portcullis-producer': checkpoint.producer_id, 'content-type': 'application/json' },
    json: JSON.stringify(checkpoint),
  };
}

function digestRecord(digest: DigestRecord, producerId: string): AuditRecord {
  return {
    stream: 'digests',
    key: `${producerId}/${digest.stream}`,
    headers: { 'portcullis-schema': AUDIT_SCHEMA, 'portcullis-stream': 'digests', 'portcullis-producer': producerId, 'content-type': 'application/json' },
    json: JSON.stringify(digest),
  };
}
