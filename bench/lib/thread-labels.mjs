// Preloaded into a process the bench measures (`node --import <this file> …`; worker threads
// inherit it): each Node.js thread writes its Linux thread id and a label — `main`, or the file
// name of the module the worker thread runs (`policy-worker`, `audit-worker`, …) — into
// BENCH_THREAD_LABELS_DIR, so the bench can split the process's CPU by thread from
// /proc/<pid>/task/<tid>/stat (Node names every thread "node"). One small write per thread at its
// start; nothing else runs in the measured process.
import { writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { readlinkSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const directory = process.env.BENCH_THREAD_LABELS_DIR;
if (directory) {
  // "<pid>/task/<tid>": the calling thread's own id.
  const tid = readlinkSync('/proc/thread-self').split('/').pop();
  const script = process.argv[1] ?? '';
  const label = isMainThread ? 'main' : basename(script, extname(script)) || 'worker';
  writeFileSync(`${directory}/${tid}`, label);
}
