import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The URL of the module `name` beside `importMetaUrl`, with the caller's own extension: `.js`
 * when the package runs from its build (dist/), `.ts` when it runs from source (tests, development).
 */
export function siblingModule(importMetaUrl: string, name: string): URL {
  return new URL(`./${name}${extname(new URL(importMetaUrl).pathname)}`, importMetaUrl);
}

/**
 * Starts a worker thread on a module. Compiled JavaScript starts as it is. A TypeScript module
 * (running from source, where tsx is installed as a development dependency) needs tsx registered
 * inside the worker first: on Node 20 loader hooks of the parent thread do not reach workers.
 */
export function startModuleWorker(module: URL, workerData?: unknown): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
