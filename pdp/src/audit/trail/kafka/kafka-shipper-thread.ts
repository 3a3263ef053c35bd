import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../../../threads/module-worker.ts';
import type { TopicMessages } from './kafka-producer-session.ts';
import type { FromKafkaShipper, KafkaShipperData, ToKafkaShipper } from './kafka-shipper-protocol.ts';

type Request = ToKafkaShipper extends infer M ? (M extends { readonly id: number } ? Omit<M, 'id'> : never) : never;

/**
 * The Kafka producer on a thread of its own (kafka-shipper-worker.ts): a produce request of a few
 * hundred records costs milliseconds of encoding, which on the audit thread held up every answer
 * waiting for a group commit. One request at a time; a thread that dies fails what it was asked
 * and the next request starts a new one.
 */
export class KafkaShipperThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(private readonly data: KafkaShipperData, private readonly log: (message: string) => void) {}

  /** Creates or aligns the audit topics. */
  prepare(): Promise<void> {
    return this.request({ kind: 'prepare' });
  }

  /** Resolves once the broker acknowledged every record; the error carries kafkajs's `type` when it had one. */
  send(topics: readonly TopicMessages[]): Promise<void> {
    // Each record's bytes are a view of a spool chunk: the chunk is copied across once, not per record.
    return this.request({ kind: 'send', topics });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.request({ kind: 'close' }).catch(() => undefined);
    this.worker = undefined;
    await worker.terminate();
  }

  private request(message: Request): Promise<void> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id } as ToKafkaShipper);
    });
  }

  private start(): Worker {
    const worker = startModuleWorker(siblingModule(import.meta.url, 'kafka-shipper-worker'), this.data);
    worker.on('message', (message: FromKafkaShipper) => {
      if (message.kind === 'log') {
        this.log(message.message);
        return;
      }
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (!message.error) {
        waiter.resolve();
        return;
      }
      waiter.reject(Object.assign(new Error(message.error.message), message.error.type === undefined ? {} : { type: message.error.type }));
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`the Kafka shipper thread stopped (exit code ${code})`)));
    return worker;
  }

  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.log(`audit: ${error.message}; a new one starts with the next batch`);
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
