/// <reference path="../types/webassembly.d.ts" />
/** Messages between the engine (main thread) and its policy worker threads. */
export type WorkerRequest =
  | { kind: 'prepare'; generation: number; module: WebAssembly.Module; data: unknown }
  | { kind: 'retire'; generation: number }
  | { kind: 'evaluate'; id: number; generation: number; entrypoint: string; inputJson: string };

export type WorkerResponse =
  | { kind: 'prepared'; generation: number; entrypoints: string[] }
  | { kind: 'prepare-failed'; generation: number; message: string }
  | { kind: 'evaluated'; id: number; result: unknown; evalMicros: number }
  | { kind: 'evaluate-failed'; id: number; message: string };
