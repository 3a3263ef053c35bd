import type { PdpConfig } from '../../config/pdp-config.ts';
import type { AuditSinkHealth } from './audit-sink.ts';

/** What the audit thread is started with (structured-cloneable). */
export interface AuditWorkerData {
  readonly audit: PdpConfig['audit'];
  readonly stateDir: string;
  readonly hostLabel: string;
  readonly productVersion: string;
  /** The module (URL) whose `redactSqlText` export the records' mapping uses (a function cannot cross threads). */
  readonly sqlTextRedactionModule: string;
}

export type AuditTrailHealth = AuditSinkHealth & {
  producer_id: string;
  digest_failures: number;
  accepting: boolean;
  /** sync: answers wait for their records to be durable; async: they do not (a crash can lose the last ones). */
  durability: 'sync' | 'async';
};

export type ToAuditWorker =
  /** Events as JSON text: cheaper to hand across threads than a structured clone of the object. */
  | { kind: 'record'; events: string[] }
  | { kind: 'flush'; id: number }
  | { kind: 'close' };

export type FromAuditWorker =
  | { kind: 'ready'; health: AuditTrailHealth }
  | { kind: 'health'; health: AuditTrailHealth }
  | { kind: 'flushed'; id: number; error?: string }
  /** The first `events` events posted (counted across every `record` message) are durable. */
  | { kind: 'durable'; events: number }
  /** A write failed, or an event could not be stored: whoever waits for durability fails closed. */
  | { kind: 'durability-failed'; message: string }
  | { kind: 'closed' }
  | { kind: 'log'; message: string }
  | { kind: 'failed'; message: string };
