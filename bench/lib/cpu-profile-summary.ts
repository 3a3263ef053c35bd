import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** One function's share of a V8 CPU profile (`node --cpu-prof`), by self time. */
export interface ProfileFrame {
  readonly name: string;
  /** file:line, shortened to the repository-relative or package path. */
  readonly where: string;
  readonly selfMs: number;
  /** Of the profile's sampled time, idle included. */
  readonly selfShare: number;
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * The functions with the most self time in one `.cpuprofile`, summed over every node of the same
 * function (a function reached through several callers is one row). `(idle)` is left out of the
 * rows but stays in the total, so shares say how much of the process's life each function took;
 * `busyShare` is the profile's non-idle part.
 */
export function topSelfFrames(path: string, count: number): { frames: ProfileFrame[]; totalMs: number; busyShare: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  profile.samples.forEach((id, index) => {
    // A sample's time is the delta to the next sample.
    const delta = profile.timeDeltas[index + 1] ?? 0;
    totalUs += delta;
    const frame = nodes.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += delta;
      return;
    }
    const where = frame.url ? `${shortPath(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName}@${where}`;
    const entry = selfUs.get(key) ?? { name: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += delta;
    selfUs.set(key, entry);
  });
  const frames = [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map(({ name, where, us }) => ({ name, where, selfMs: us / 1000, selfShare: totalUs > 0 ? us / totalUs : 0 }));
  return { frames, totalMs: totalUs / 1000, busyShare: totalUs > 0 ? 1 - idleUs / totalUs : 0 };
}

/** The `.cpuprofile` files a process wrote into `dir` (node names them by pid and time). */
export function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/**
 * A short table of the top frames, for a terminal and for bench/README.md alike (Markdown);
 * undefined for a thread busy less than `minBusyShare` of its life (an idle worker).
 */
export function framesTable(title: string, path: string, count = 15, minBusyShare = 0): string | undefined {
  const { frames, totalMs, busyShare } = topSelfFrames(path, count);
  if (busyShare < minBusyShare) return undefined;
  const rows = frames.map((frame) => `| ${(frame.selfShare * 100).toFixed(1)}% | ${frame.selfMs.toFixed(0)} | \`${frame.name}\` | ${frame.where} |`);
  return [
    `${title} (${basename(path)}: ${(totalMs / 1000).toFixed(1)} s sampled, ${(busyShare * 100).toFixed(0)}% busy)`,
    '',
    '| self | ms | function | where |',
    '|---:|---:|---|---|',
    ...rows,
  ].join('\n');
}

function shortPath(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  if (path.startsWith('node:')) return path;
  const parts = path.split('/');
  for (const root of ['pep-agents', 'pdp', 'bench', 'test']) {
    const at = parts.lastIndexOf(root);
    if (at >= 0) return parts.slice(at).join('/');
  }
  return path;
}
