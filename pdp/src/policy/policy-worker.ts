import { parentPort } from 'node:worker_threads';
import { WasmPolicyInstance } from './wasm-policy-instance.ts';
import type { WorkerRequest, WorkerResponse } from './policy-worker-protocol.ts';

// Each worker owns its instances: opa-wasm evaluation is synchronous and not re-entrant.
const instances = new Map<number, WasmPolicyInstance>();
const port = parentPort;
if (!port) throw new Error('policy-worker must run in a worker thread');

const send = (message: WorkerResponse): void => port.postMessage(message);

port.on('message', (message: WorkerRequest) => {
  switch (message.kind) {
    case 'prepare':
      WasmPolicyInstance.create(message.module, message.data).then(
        (instance) => {
          instances.set(message.generation, instance);
          send({ kind: 'prepared', generation: message.generation, entrypoints: instance.entrypoints });
        },
        (error: unknown) => send({ kind: 'prepare-failed', generation: message.generation, message: String((error as Error)?.message ?? error) }),
      );
      return;
    case 'retire':
      instances.delete(message.generation);
      return;
    case 'evaluate': {
      const instance = instances.get(message.generation);
      if (!instance) {
        send({ kind: 'evaluate-failed', id: message.id, message: `policy generation ${message.generation} is not loaded` });
        return;
      }
      const started = process.hrtime.bigint();
      try {
        const result = instance.evaluate(message.entrypoint, message.inputJson);
        const evalMicros = Number(process.hrtime.bigint() - started) / 1000;
        send({ kind: 'evaluated', id: message.id, result, evalMicros });
      } catch (error) {
        send({ kind: 'evaluate-failed', id: message.id, message: (error as Error).message });
      }
      return;
    }
  }
});
