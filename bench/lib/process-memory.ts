import { readFileSync } from 'node:fs';
import type { RemoteGc } from './remote-gc.ts';

export interface MemorySample {
  /** Resident set size from /proc/<pid>/status (VmRSS). */
  readonly rssBytes: number;
  /** V8 heap in use, from the PDP's /metrics (prom-client's nodejs_heap_size_used_bytes). */
  readonly heapUsedBytes: number;
}

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

async function heapUsedBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^\w*nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)$/m.exec(text);
  if (!match) throw new Error('the PDP /metrics has no nodejs_heap_size_used_bytes');
  return Number(match[1]);
}

/**
 * The PDP process's memory right after a full garbage collection (through its inspector), so
 * two samples differ by what is really held, not by when the collector last ran.
 */
export async function sampleMemory(pid: number, url: string, gc: RemoteGc): Promise<MemorySample> {
  await gc.collect();
  await gc.collect();
  return { rssBytes: rssBytes(pid), heapUsedBytes: await heapUsedBytes(url) };
}

/** A number from the PDP's /metrics (labels folded), e.g. portcullis_approval_waits. */
export async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'gm'))) total += Number(match[1]);
  return total;
}
