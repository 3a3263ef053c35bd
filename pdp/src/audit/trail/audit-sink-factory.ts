import { join } from 'node:path';
import type { PdpConfig } from '../../config/pdp-config.ts';
import type { AuditSink } from './audit-sink.ts';
import type { FsyncPlacement } from './durable-append.ts';
import { DiscardAuditSink } from './discard-audit-sink.ts';
import { JsonlAuditSink } from './jsonl-audit-sink.ts';
import { KafkaAuditSink } from './kafka/kafka-audit-sink.ts';

/** The sink the configuration asks for: Kafka when brokers are set, else the embedded JSONL files. */
export function createAuditSink(audit: PdpConfig['audit'], clientLabel: string, log: (message: string) => void, fsyncPlacement?: FsyncPlacement): AuditSink {
  if (audit.discard) {
    log('WARNING: PORTCULLIS_AUDIT_SINK=discard — decisions are NOT audited; this is a benchmark baseline only');
    return new DiscardAuditSink();
  }
  const placement = fsyncPlacement ? { fsyncPlacement } : {};
  if (!audit.kafka) return new JsonlAuditSink({ ...audit, ...placement, log });
  return new KafkaAuditSink({
    brokers: audit.kafka.brokers,
    clientId: `portcullis-pdp-${clientLabel}`,
    topicPrefix: audit.kafka.topicPrefix,
    partitions: audit.kafka.partitions,
    replicationFactor: audit.kafka.replicationFactor,
    spoolDirectory: join(audit.directory, 'kafka-spool'),
    maxSpoolBytes: audit.kafka.maxSpoolBytes,
    overflow: audit.overflow,
    compression: audit.kafka.compression,
    durability: audit.durability,
    retention: audit.retention,
    ...placement,
    log,
  });
}
