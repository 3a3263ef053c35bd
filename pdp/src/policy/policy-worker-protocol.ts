/// <reference path="../types/webassembly.d.ts" />
/** One evaluation asked of a policy worker: the input travels as JSON text. */
export interface EvaluationRequest {
  readonly id: number;
  readonly generation: number;
  readonly entrypoint: string;
  readonly inputJson: string;
}

/** One evaluation's outcome, as the worker reports it. */
export type EvaluationResponse =
  | { readonly id: number; readonly ok: true; readonly result: unknown; readonly evalMicros: number }
  | { readonly id: number; readonly ok: false; readonly message: string };

/**
 * Messages between the engine (main thread) and its policy worker threads. Evaluations travel in
 * batches (those asked in one turn of the event loop, one message each way): every message
 * between threads costs both of them a wake-up, whatever it carries.
 */
export type WorkerRequest =
  | { kind: 'prepare'; generation: number; module: WebAssembly.Module; data: unknown }
  | { kind: 'retire'; generation: number }
  | { kind: 'evaluate'; requests: EvaluationRequest[] };

export type WorkerResponse =
  | { kind: 'prepared'; generation: number; entrypoints: string[] }
  | { kind: 'prepare-failed'; generation: number; message: string }
  /** Outcomes in the order asked; a long batch reports in slices, so progress stays visible. */
  | { kind: 'evaluated'; responses: EvaluationResponse[] };
