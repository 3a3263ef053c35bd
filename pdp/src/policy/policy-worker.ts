import { parentPort, workerData } from 'node:worker_threads';
import { lowerThisThreadPriority } from '../threads/thread-priority.ts';
import { WasmPolicyInstance } from './wasm-policy-instance.ts';
import type { EvaluationRequest, EvaluationResponse, WorkerRequest, WorkerResponse } from './policy-worker-protocol.ts';
import type { PolicyWorkerData } from './policy-worker-data.ts';

// Each worker owns its instances: opa-wasm evaluation is synchronous and not re-entrant.
const instances = new Map<number, WasmPolicyInstance>();
const port = parentPort;
if (!port) throw new Error('policy-worker must run in a worker thread');

const send = (message: WorkerResponse): void => port.postMessage(message);

const { niceness, answerSliceMicros } = (workerData ?? {}) as Partial<PolicyWorkerData>;
/** A batch reports what it has after this long (see OpaWasmEngineOptions.batching). */
const PROGRESS_SLICE_NS = BigInt(Math.round((answerSliceMicros ?? 500) * 1000));
if (niceness !== undefined && niceness > 0) {
  const lowered = lowerThisThreadPriority(niceness);
  if (!lowered.ok) process.emitWarning(`policy worker: could not lower its scheduling priority (${lowered.reason})`);
}

function evaluateOne(request: EvaluationRequest): EvaluationResponse {
  const instance = instances.get(request.generation);
  if (!instance) return { id: request.id, ok: false, message: `policy generation ${request.generation} is not loaded` };
  const started = process.hrtime.bigint();
  try {
    const result = instance.evaluate(request.entrypoint, request.inputJson);
    return { id: request.id, ok: true, result, evalMicros: Number(process.hrtime.bigint() - started) / 1000 };
  } catch (error) {
    return { id: request.id, ok: false, message: (error as Error).message };
  }
}

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
      let responses: EvaluationResponse[] = [];
      let sliceStarted = process.hrtime.bigint();
      for (const request of message.requests) {
        responses.push(evaluateOne(request));
        if (process.hrtime.bigint() - sliceStarted > PROGRESS_SLICE_NS) {
          send({ kind: 'evaluated', responses });
          responses = [];
          sliceStarted = process.hrtime.bigint();
        }
      }
      if (responses.length > 0) send({ kind: 'evaluated', responses });
      return;
    }
  }
});
