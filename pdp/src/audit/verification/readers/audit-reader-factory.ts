import type { PdpConfig } from '../../../config/pdp-config.ts';
import { AUDIT_STREAMS } from '../../audit-event.ts';
import type { AuditReader, StoredRecord } from './audit-reader.ts';
import { JsonlAuditReader } from './jsonl-audit-reader.ts';
import { KafkaAuditReader } from './kafka-audit-reader.ts';

export interface AuditSourceChoice {
  readonly kafka?: string;
  readonly topicPrefix?: string;
  readonly dir?: string;
}

/** The store to read: flags first, then the PDP's own configuration (Kafka if set, else JSONL). */
export function openAuditReader(choice: AuditSourceChoice, config: PdpConfig): AuditReader {
  if (choice.dir) return new JsonlAuditReader(choice.dir);
  const brokers = choice.kafka?.split(',').map((broker) => broker.trim()).filter(Boolean) ?? config.audit.kafka?.brokers;
  if (brokers && brokers.length > 0) return new KafkaAuditReader(brokers, choice.topicPrefix ?? config.audit.kafka?.topicPrefix ?? 'portcullis');
  return new JsonlAuditReader(config.audit.directory, config.audit.retention);
}

/** Every event stream one after another (digests excluded). */
export async function* readEventStreams(reader: AuditReader): AsyncIterable<StoredRecord> {
  for (const stream of AUDIT_STREAMS) yield* reader.read(stream);
}
