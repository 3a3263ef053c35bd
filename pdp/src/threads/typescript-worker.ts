import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on a TypeScript module. Workers do not inherit a loader registered
 * programmatically, so a tiny bootstrap registers tsx first and then imports the module.
 */
export function startTypeScriptWorker(module: URL, workerData?: unknown): Worker {
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
