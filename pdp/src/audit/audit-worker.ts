import { parentPort, workerData } from 'node:worker_threads';
import { createAuditSink } from './audit-sink-factory.ts';
import type { AuditEvent } from './audit-sink.ts';
import { AuditTrail } from './audit-trail.ts';
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

const sink = createAuditSink(data.audit, data.hostLabel, log);
const digests = new DigestSigner({ directory: auditSigningDirectory(data.stateDir) });
try {
  await digests.prepare();
} catch (error) {
  // Digests retry the key on their next interval; records keep flowing meanwhile.
  log(`audit: the signing key is not ready (${(error as Error).message}); digests will retry`);
}
const trail = new AuditTrail({
  sink,
  chain: new HashChain(newProducerId(data.hostLabel)),
  digests,
  product: { version: data.productVersion },
  digestIntervalMs: data.audit.digestIntervalMs,
  durability: data.audit.durability,
  ledger: new ProducerLedger(data.audit.directory, ledgerFileFor(data.audit.kafka?.topicPrefix)),
  log,
});
await trail.start();
const health = (): AuditTrailHealth => ({ ...trail.health(), accepting: sink.hasCapacity() });

const heartbeat = setInterval(() => send({ kind: 'health', health: health() }), 50);
send({ kind: 'ready', health: health() });

port.on('message', (message: ToAuditWorker) => {
  switch (message.kind) {
    case 'record':
      for (const text of message.events) {
        try {
          trail.record(JSON.parse(text) as AuditEvent, true);
        } catch (error) {
          send({ kind: 'failed', message: `audit record could not be stored: ${(error as Error).message}` });
        }
      }
      return;
    case 'flush':
      trail.flush().then(
        () => send({ kind: 'flushed', id: message.id }),
        (error: unknown) => send({ kind: 'flushed', id: message.id, error: (error as Error).message }),
      );
      return;
    case 'close':
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
