import { CHECKPOINT_TYPE, checkpointLinkHash, checkpointPayload, type AuditDurability, type CheckpointEvent, type CheckpointFields, type CheckpointRecord, type SeenProducer, type SignedRetention, type StreamPositions } from './producer-checkpoint.ts';

export interface ProducerCheckpointsOptions {
  readonly producerId: string;
  readonly digestIntervalMs: number;
  readonly durability: AuditDurability;
  /** The retention configured for each stream, signed in every checkpoint (absent: not stated). */
  readonly retention?: SignedRetention;
  /** Signs a payload with the audit signing key (DigestSigner.signPayload). */
  readonly sign: (payload: string) => Promise<string>;
  readonly now?: () => Date;
}

/**
 * Builds one producer's signed, linked lifecycle records: the first is always `start` (seq 0),
 * then `checkpoint`s, then `stop`. Calls must not overlap (the audit trail serialises them); a
 * failed signature leaves seq and link where they were, so the next call retries cleanly.
 */
export class ProducerCheckpoints {
  private seq = 0;
  private previous: string | null = null;
  private stopped = false;

  constructor(private readonly options: ProducerCheckpointsOptions) {}

  get started(): boolean {
    return this.seq > 0;
  }

  async next(event: CheckpointEvent, streams: StreamPositions, producers: readonly SeenProducer[]): Promise<CheckpointRecord> {
    if (this.stopped) throw new Error('ProducerCheckpoints: the producer already stopped');
    if ((event === 'start') !== (this.seq === 0)) throw new Error(`ProducerCheckpoints: ${event} cannot be checkpoint seq ${this.seq}`);
    const fields: CheckpointFields = {
      type: CHECKPOINT_TYPE,
      event,
      producer_id: this.options.producerId,
      seq: this.seq,
      previous: this.previous,
      time: (this.options.now?.() ?? new Date()).toISOString(),
      digest_interval_ms: this.options.digestIntervalMs,
      durability: this.options.durability,
      streams,
      producers,
      ...(this.options.retention === undefined ? {} : { retention_ms: this.options.retention }),
    };
    const signature = await this.options.sign(checkpointPayload(fields));
    this.seq += 1;
    this.previous = checkpointLinkHash(signature);
    if (event === 'stop') this.stopped = true;
    return { ...fields, signature };
  }
}
