import { parentPort, workerData } from 'node:worker_threads';
import { lowerThisThreadPriority } from '../../../threads/thread-priority.ts';
import { KafkaProducerSession } from './kafka-producer-session.ts';
import type { FromKafkaShipper, KafkaShipperData, ToKafkaShipper } from './kafka-shipper-protocol.ts';

// The Kafka shipper thread: encoding, compressing and sending produce requests, away from the
// audit thread whose group commits answers wait for. Nothing waits on this thread but the
// broker's copy, so it runs at a lower priority: a busy machine gives the cores to answers first,
// and the spool holds what has not left yet.
const port = parentPort;
if (!port) throw new Error('kafka-shipper-worker must run in a worker thread');
const data = workerData as KafkaShipperData;
const send = (message: FromKafkaShipper): void => port.postMessage(message);
const log = (message: string): void => send({ kind: 'log', message });

if (data.niceness > 0) {
  const lowered = lowerThisThreadPriority(data.niceness);
  if (!lowered.ok) log(`audit: the Kafka shipper runs at the process's priority (${lowered.reason})`);
}
const session = new KafkaProducerSession(data.session, log);

const answer = (id: number, work: Promise<void>): Promise<void> => work.then(
  () => send({ kind: 'done', id }),
  (error: unknown) => send({ kind: 'done', id, error: { message: (error as Error).message, ...(typeof (error as { type?: unknown }).type === 'string' ? { type: (error as { type: string }).type } : {}) } }),
);

port.on('message', (message: ToKafkaShipper) => {
  switch (message.kind) {
    case 'prepare':
      void answer(message.id, session.prepare());
      return;
    case 'send':
      void answer(message.id, session.send(message.topics.map(({ topic, messages }) => ({
        topic,
        messages: messages.map(({ key, value, headers }) => ({ key, headers, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) })),
      }))));
      return;
    case 'close':
      void answer(message.id, session.close());
      return;
  }
});
