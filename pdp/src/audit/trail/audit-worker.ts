import { parentPort, workerData } from 'node:worker_threads';
import { createAuditSink } from './audit-sink-factory.ts';
import type { AuditEvent } from '../audit-event.ts';
import type { SqlTextRedactor } from '../ocsf/credential-redaction.ts';
import { SlicedWorkQueue } from '../../threads/sliced-work-queue.ts';
import { AuditTrail } from './audit-trail.ts';
import { FsyncInlineWhenIdle } from './durable-append.ts';
import type { AuditTrailHealth, AuditWorkerData, FromAuditWorker, ToAuditWorker } from './audit-worker-protocol.ts';
import { DigestSigner, auditSigningDirectory } from './digest-signer.ts';
import { HashChain, newProducerId } from './hash-chain.ts';
import { ledgerFileFor, ProducerLedger } from './producer-ledger.ts';

// The audit thread: OCSF mapping, hash chain, digests, spool and shipping all run here, so a
// decision only pays for handing its event over.
const port = parentPort;
if (!port) throw new Error('audit-worker must run in a worker thread');
const data = workerData as AuditWorkerData;
const send = (message: FromAuditWorker): void => port.postMessage(message);
const log = (message: string): void => send({ kind: 'log', message });

// With sync durability, a group commit of a few records while no more wait to be mapped fsyncs on
// this thread: at a moderate rate that spares two wake-ups per commit (this thread → the pool →
// this thread). Measured A/B against every fsync on the pool ("Where an fsync runs" in
// bench/README.md): 4–13 % more decisions per second at 2–4 connections, the same at 16. Not
// with async durability, where no answer waits for the fsync and nothing bounds what arrives
// while this thread is blocked.
const INLINE_FSYNC_MAX_RECORDS = 4;
/** Whether records handed to this thread still wait to be mapped (none before the intake exists). */
let recordsWaiting = (): boolean => false;
const fsyncPlacement = data.audit.durability === 'sync' ? new FsyncInlineWhenIdle(INLINE_FSYNC_MAX_RECORDS, () => recordsWaiting()) : undefined;
const sink = createAuditSink(data.audit, data.hostLabel, log, fsyncPlacement);
const digests = new DigestSigner({ directory: auditSigningDirectory(data.stateDir) });
try {
  await digests.prepare();
} catch (error) {
  // Digests retry the key on their next interval; records keep flowing meanwhile.
  log(`audit: the signing key is not ready (${(error as Error).message}); digests will retry`);
}
const { redactSqlText } = (await import(data.sqlTextRedactionModule)) as { redactSqlText: SqlTextRedactor };
const trail = new AuditTrail({
  sink,
  chain: new HashChain(newProducerId(data.hostLabel)),
  digests,
  product: { version: data.productVersion, redactSqlText },
  digestIntervalMs: data.audit.digestIntervalMs,
  durability: data.audit.durability,
  retention: data.audit.retention,
  ledger: new ProducerLedger(data.audit.directory, ledgerFileFor(data.audit.kafka?.topicPrefix)),
  log,
});
await trail.start();
const health = (): AuditTrailHealth => ({ ...trail.health(), accepting: sink.hasCapacity(), durability: data.audit.durability });

// Durability: after each `record` message, the sink position its last event reached; the
// events up to it are durable once the sink's durable count passes that position.
let eventsReceived = 0;
let eventsReported = 0;
const marks: Array<{ sinkPosition: number; events: number }> = [];
const reportProgress = (): void => {
  const { durable, failure } = sink.progress();
  let events = eventsReported;
  while (marks.length > 0 && marks[0]!.sinkPosition <= durable) events = marks.shift()!.events;
  if (events > eventsReported) {
    eventsReported = events;
    send({ kind: 'durable', events });
  }
  if (failure !== undefined && marks.length > 0) send({ kind: 'durability-failed', message: `audit records could not be stored: ${failure}` });
};
sink.onProgress(reportProgress);

const heartbeat = setInterval(() => send({ kind: 'health', health: health() }), 50);
send({ kind: 'ready', health: health() });

// A few records at a time: the sink's group commit starts on the first ones while the rest are
// still being mapped and chained, instead of the whole batch waiting for its last record.
const RECORDS_PER_SLICE = 4;
const intake = new SlicedWorkQueue<string>(RECORDS_PER_SLICE, (texts) => {
  for (const text of texts) {
    try {
      trail.record(JSON.parse(text) as AuditEvent, true);
    } catch (error) {
      send({ kind: 'failed', message: `audit record could not be stored: ${(error as Error).message}` });
      send({ kind: 'durability-failed', message: `an audit record could not be stored: ${(error as Error).message}` });
    }
  }
  eventsReceived += texts.length;
  marks.push({ sinkPosition: sink.progress().appended, events: eventsReceived });
  // A sink that stores at once (discard) reports no progress of its own.
  reportProgress();
});

recordsWaiting = () => !intake.idle;

port.on('message', (message: ToAuditWorker) => {
  switch (message.kind) {
    case 'record':
      intake.push(message.events);
      return;
    case 'flush':
      // Everything recorded before the flush was asked is in it.
      intake.drainNow();
      trail.flush().then(
        () => send({ kind: 'flushed', id: message.id }),
        (error: unknown) => send({ kind: 'flushed', id: message.id, error: (error as Error).message }),
      );
      return;
    case 'close':
      intake.drainNow();
      clearInterval(heartbeat);
      trail.close().then(
        () => {
          send({ kind: 'closed' });
          port.close();
        },
        (error: unknown) => {
          send({ kind: 'failed', message: `audit trail did not close cleanly: ${(error as Error).message}` });
          send({ kind: 'closed' });
          port.close();
        },
      );
      return;
  }
});
