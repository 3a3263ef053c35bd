/// <reference path="../types/webassembly.d.ts" />
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../threads/module-worker.ts';
import type { PolicyBundle } from './policy-bundle.ts';
import { PolicyNotLoadedError, UnknownEntrypointError, type PolicyEngine, type PolicyEvaluation } from './policy-engine.ts';
import type { EvaluationRequest, WorkerRequest, WorkerResponse } from './policy-worker-protocol.ts';
import type { PolicyWorkerData } from './policy-worker-data.ts';
import { WasmPolicyInstance } from './wasm-policy-instance.ts';

export interface OpaWasmEngineOptions {
  /** Worker threads evaluating policy; 0 evaluates on the calling thread. */
  readonly workers: number;
  /** An evaluation running longer than this is abandoned and its worker replaced. */
  readonly evalTimeoutMs: number;
  /** Linux niceness of the worker threads (0, the default: as the process); a shadow's run lower. */
  readonly niceness?: number;
  /**
   * How evaluations travel to and from a worker. `interactive` (the default, the live path): at
   * most 4 evaluations per message and answers every 0.5 ms of evaluation, so the first of a busy
   * turn's decisions do not wait for the last. `bulk` (a shadow, where nobody waits): a turn's
   * evaluations in one message and answers every 5 ms, the fewest messages between threads.
   */
  readonly batching?: 'interactive' | 'bulk';
}

const BATCHING = {
  interactive: { evaluationsPerMessage: 4, answerSliceMicros: 500 },
  bulk: { evaluationsPerMessage: Number.POSITIVE_INFINITY, answerSliceMicros: 5000 },
} as const;

interface Loaded {
  readonly generation: number;
  readonly revision: string;
  readonly entrypoints: ReadonlySet<string>;
  readonly module: WebAssembly.Module;
  readonly data: unknown;
  readonly inline?: WasmPolicyInstance;
}

interface Pending {
  readonly resolve: (value: PolicyEvaluation) => void;
  readonly reject: (error: Error) => void;
  readonly revision: string;
}

const workerModule = siblingModule(import.meta.url, 'policy-worker');

/** Evaluates Rego compiled to WebAssembly with one opa-wasm instance per worker thread. */
export class OpaWasmEngine implements PolicyEngine {
  private loaded: Loaded | undefined;
  private nextGeneration = 1;
  private nextId = 1;
  private closed = false;
  private readonly slots: WorkerSlot[] = [];

  constructor(private readonly options: OpaWasmEngineOptions) {
    for (let index = 0; index < options.workers; index += 1) this.slots.push(this.startSlot());
  }

  get revision(): string | undefined {
    return this.loaded?.revision;
  }

  get entrypoints(): readonly string[] {
    return this.loaded ? [...this.loaded.entrypoints] : [];
  }

  async load(bundle: PolicyBundle): Promise<void> {
    const module = await WebAssembly.compile(bundle.wasm);
    const generation = this.nextGeneration++;
    let entrypoints: string[];
    let inline: WasmPolicyInstance | undefined;
    if (this.slots.length === 0) {
      inline = await WasmPolicyInstance.create(module, bundle.data);
      entrypoints = inline.entrypoints;
    } else {
      try {
        const answers = await Promise.all(this.slots.map((slot) => slot.prepare(generation, module, bundle.data)));
        entrypoints = answers[0] ?? [];
      } catch (error) {
        for (const slot of this.slots) slot.post({ kind: 'retire', generation });
        throw error;
      }
    }
    const previous = this.loaded;
    this.loaded = { generation, revision: bundle.revision, entrypoints: new Set(entrypoints), module, data: bundle.data, ...(inline ? { inline } : {}) };
    // Evaluations already posted with the old generation stay ahead of this in each worker's queue.
    if (previous) for (const slot of this.slots) slot.post({ kind: 'retire', generation: previous.generation });
  }

  evaluate(entrypoint: string, inputJson: string): Promise<PolicyEvaluation> {
    const loaded = this.loaded;
    if (!loaded) return Promise.reject(new PolicyNotLoadedError());
    if (!loaded.entrypoints.has(entrypoint)) return Promise.reject(new UnknownEntrypointError(entrypoint));
    if (loaded.inline) {
      const started = process.hrtime.bigint();
      try {
        const result = loaded.inline.evaluate(entrypoint, inputJson);
        return Promise.resolve({ result, revision: loaded.revision, evalMicros: Number(process.hrtime.bigint() - started) / 1000 });
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    const slot = this.leastBusySlot();
    return slot.evaluate(this.nextId++, loaded, entrypoint, inputJson);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((slot) => slot.terminate()));
  }

  private leastBusySlot(): WorkerSlot {
    let best = this.slots[0]!;
    for (const slot of this.slots) if (slot.inFlight < best.inFlight) best = slot;
    return best;
  }

  private startSlot(): WorkerSlot {
    const batching = BATCHING[this.options.batching ?? 'interactive'];
    const slot = new WorkerSlot(this.options.evalTimeoutMs, batching.evaluationsPerMessage, { niceness: this.options.niceness ?? 0, answerSliceMicros: batching.answerSliceMicros }, () => this.replace(slot));
    return slot;
  }

  /** A worker that died or hung is replaced and given the bundle that serves now. */
  private replace(dead: WorkerSlot): void {
    if (this.closed) return;
    const index = this.slots.indexOf(dead);
    if (index === -1) return;
    const fresh = this.startSlot();
    this.slots[index] = fresh;
    const loaded = this.loaded;
    if (loaded) fresh.prepare(loaded.generation, loaded.module, loaded.data).catch(() => fresh.terminate());
  }
}

/**
 * One worker thread and what it was asked. Evaluations asked in one turn of the event loop go
 * to the worker together, up to the batching's evaluations per message, and come back in slices
 * of evaluation time: a message between threads costs each side a wake-up, which under load cost
 * more than the evaluation, while a whole turn sent and answered as one held its first decisions
 * back until the last was done (OpaWasmEngineOptions.batching).
 * One watchdog per worker replaces a timer per evaluation: while anything is outstanding, the
 * worker must report progress within the timeout, or it is taken for hung and replaced.
 */
class WorkerSlot {
  inFlight = 0;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly preparing = new Map<number, { resolve: (entrypoints: string[]) => void; reject: (error: Error) => void }>();
  private outbox: EvaluationRequest[] = [];
  private flushScheduled = false;
  private watchdog: NodeJS.Timeout | undefined;
  private dead = false;

  constructor(private readonly evalTimeoutMs: number, private readonly evaluationsPerMessage: number, data: PolicyWorkerData, private readonly onDeath: () => void) {
    this.worker = startModuleWorker(workerModule, data);
    this.worker.on('message', (message: WorkerResponse) => this.receive(message));
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) => this.die(new Error(`policy worker exited with code ${code}`)));
  }

  post(message: WorkerRequest): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  prepare(generation: number, module: WebAssembly.Module, data: unknown): Promise<string[]> {
    if (this.dead) return Promise.reject(new Error('policy worker is not running'));
    return new Promise((resolve, reject) => {
      this.preparing.set(generation, { resolve, reject });
      this.post({ kind: 'prepare', generation, module, data });
    });
  }

  evaluate(id: number, loaded: Loaded, entrypoint: string, inputJson: string): Promise<PolicyEvaluation> {
    if (this.dead) return Promise.reject(new Error('policy worker is not running'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, revision: loaded.revision });
      this.inFlight += 1;
      this.outbox.push({ id, generation: loaded.generation, entrypoint, inputJson });
      if (this.outbox.length >= this.evaluationsPerMessage) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async terminate(): Promise<void> {
    this.dead = true;
    this.failAll(new Error('policy engine closed'));
    await this.worker.terminate();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.dead || this.outbox.length === 0) return;
    const requests = this.outbox;
    this.outbox = [];
    // The clock starts when an idle worker is given work; a busy one's runs from its last report.
    if (this.watchdog === undefined) this.watchdog = setTimeout(() => this.die(new Error(`policy evaluation exceeded ${this.evalTimeoutMs} ms`)), this.evalTimeoutMs);
    this.post({ kind: 'evaluate', requests });
  }

  private receive(message: WorkerResponse): void {
    switch (message.kind) {
      case 'prepared':
      case 'prepare-failed': {
        const waiter = this.preparing.get(message.generation);
        this.preparing.delete(message.generation);
        if (message.kind === 'prepared') waiter?.resolve(message.entrypoints);
        else waiter?.reject(new Error(message.message));
        return;
      }
      case 'evaluated': {
        for (const response of message.responses) {
          const waiter = this.pending.get(response.id);
          if (!waiter) continue;
          this.pending.delete(response.id);
          this.inFlight -= 1;
          if (response.ok) waiter.resolve({ result: response.result, revision: waiter.revision, evalMicros: response.evalMicros });
          else waiter.reject(new Error(response.message));
        }
        // Progress: nothing left stops the watchdog; what is left gets a fresh timeout.
        if (this.pending.size === 0) this.stopWatchdog();
        else this.watchdog?.refresh();
        return;
      }
    }
  }

  private stopWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private die(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.failAll(error);
    void this.worker.terminate();
    this.onDeath();
  }

  private failAll(error: Error): void {
    this.stopWatchdog();
    this.outbox = [];
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
    this.inFlight = 0;
    for (const waiter of this.preparing.values()) waiter.reject(error);
    this.preparing.clear();
  }
}
