import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditStream } from '../audit-event.ts';
import { asNumber, asString, fieldAt } from '../json-fields.ts';
import type { SeenProducer, StreamPositions } from './producer-checkpoint.ts';

/**
 * The producers that have written from this state folder, with the last position each one
 * attested: read by the next run so its signed start record and checkpoints name every earlier
 * run (a whole run removed from the trail is then named by the verifier). Replaced atomically.
 */
export class ProducerLedger {
  private readonly path: string;
  private producers: SeenProducer[];

  constructor(directory: string, file: string) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    this.path = join(directory, file);
    this.producers = existsSync(this.path) ? readLedger(this.path) : [];
  }

  /** Every producer but `self`. */
  othersThan(self: string): SeenProducer[] {
    return this.producers.filter((producer) => producer.producer_id !== self);
  }

  /**
   * A run that ended without a stop is known here up to its last checkpoint; its records after
   * that are the last ones stored (`tails`, the sink's last record of each stream). Naming it up
   * to those, this run's signed start attests them: removing them later is named by the
   * verifier. Producers the ledger does not know (another destination's) are left alone.
   */
  extendCrashedRuns(tails: Partial<Record<AuditStream, string>>): void {
    for (const json of Object.values(tails)) {
      const chain = fieldAt(JSON.parse(json) as unknown, 'unmapped', 'portcullis', 'chain');
      const producerId = asString(fieldAt(chain, 'producer_id'));
      const stream = asString(fieldAt(chain, 'stream')) as AuditStream | undefined;
      const seq = asNumber(fieldAt(chain, 'seq'));
      const hash = asString(fieldAt(chain, 'hash'));
      const known = this.producers.find((producer) => producer.producer_id === producerId);
      if (!known || known.stopped || !stream || seq === undefined || !hash) continue;
      if ((known.streams[stream]?.last_seq ?? -1) >= seq) continue;
      this.update(known.producer_id, { ...known.streams, [stream]: { last_seq: seq, last_hash: hash } }, false);
    }
  }

  /** Records where `producerId` stands (and whether it stopped), durably. */
  update(producerId: string, streams: StreamPositions, stopped: boolean): void {
    const entry: SeenProducer = { producer_id: producerId, streams, stopped };
    const index = this.producers.findIndex((producer) => producer.producer_id === producerId);
    this.producers = index === -1 ? [...this.producers, entry] : this.producers.map((producer, at) => (at === index ? entry : producer));
    const temp = `${this.path}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ producers: this.producers }, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
  }
}

/** The ledger of one destination: the JSONL files, or one Kafka topic prefix. */
export function ledgerFileFor(kafkaTopicPrefix: string | undefined): string {
  return kafkaTopicPrefix === undefined ? 'producers.json' : `producers.kafka.${kafkaTopicPrefix}.json`;
}

function readLedger(path: string): SeenProducer[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { producers?: unknown };
  if (!Array.isArray(parsed.producers)) throw new Error(`${path} is not a producer ledger (no "producers" list)`);
  return parsed.producers as SeenProducer[];
}
