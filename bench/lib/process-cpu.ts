import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Kernel clock ticks per second, the unit of every time field in /proc (almost always 100).
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime of the process (all its threads). */
  readonly ownTicks: number;
  /** cutime + cstime: children it has waited for. */
  readonly reapedChildrenTicks: number;
}

/** Fields after the command name, which may itself contain spaces and parentheses. */
function statFields(path: string): string[] | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(text.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined; // the process or thread ended between listing and reading
  }
}

function readStat(pid: number): ProcStat | undefined {
  const fields = statFields(`/proc/${pid}/stat`);
  if (!fields) return undefined;
  // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  return {
    pid,
    ppid: Number(fields[1]),
    ownTicks: Number(fields[11]) + Number(fields[12]),
    reapedChildrenTicks: Number(fields[13]) + Number(fields[14]),
  };
}

/**
 * CPU seconds used so far by a process and all its descendants: the live ones, and those that
 * ended and were waited for (a PostgreSQL backend ends with its connection; its time then moves
 * into the postmaster's children fields, so the sum stays continuous across the exit).
 */
export function processTreeCpuSeconds(rootPid: number): number {
  const all = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((name) => readStat(Number(name)));
  const children = new Map<number, ProcStat[]>();
  for (const stat of all) {
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(stat);
    children.set(stat.ppid, list);
  }
  const root = readStat(rootPid);
  if (!root) throw new Error(`process ${rootPid} is gone: cannot account for its CPU`);
  let ticks = 0;
  const pending: ProcStat[] = [root];
  while (pending.length > 0) {
    const next = pending.pop()!;
    ticks += next.ownTicks + next.reapedChildrenTicks;
    pending.push(...(children.get(next.pid) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}

/** The processes whose parent is `pid` now (a gateway's stdio servers, one per agent session). */
export function childProcessIds(pid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((name) => readStat(Number(name))).filter((stat) => stat?.ppid === pid).map((stat) => stat!.pid);
}

/** CPU seconds of a process's main thread alone (its thread id is its pid): Node's event loop. */
export function mainThreadCpuSeconds(pid: number): number {
  const fields = statFields(`/proc/${pid}/task/${pid}/stat`);
  if (!fields) throw new Error(`process ${pid} is gone: cannot read its main thread`);
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The path of the preload that labels a Node.js process's threads (`--import`, with BENCH_THREAD_LABELS_DIR). */
export const THREAD_LABELS_PRELOAD = fileURLToPath(new URL('./thread-labels.mjs', import.meta.url));

/**
 * CPU seconds of a process by thread label: `main` (the event loop), one entry per worker
 * module (`policy-worker`, `audit-worker`, … summed when several threads run the same one), as
 * labelled by THREAD_LABELS_PRELOAD in `labelsDir`, and `other` for the rest of the process (V8's
 * GC helpers, libuv's pool, threads that ended). The entries add up to the process's own CPU.
 */
export function labelledThreadCpuSeconds(pid: number, labelsDir: string): Record<string, number> {
  const total = readStat(pid);
  if (!total) throw new Error(`process ${pid} is gone: cannot account for its threads`);
  const byLabel: Record<string, number> = { main: 0, other: 0 };
  let labelled = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const labelFile = join(labelsDir, tid);
    if (!existsSync(labelFile)) continue;
    const fields = statFields(`/proc/${pid}/task/${tid}/stat`);
    if (!fields) continue;
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const label = readFileSync(labelFile, 'utf8').trim();
    byLabel[label] = (byLabel[label] ?? 0) + seconds;
    labelled += seconds;
  }
  byLabel.other = Math.max(0, total.ownTicks / TICKS_PER_SECOND - labelled);
  return byLabel;
}

/** How many live threads of a process carry each label (several policy workers share one). */
export function labelledThreadCounts(pid: number, labelsDir: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const labelFile = join(labelsDir, tid);
    if (!existsSync(labelFile)) continue;
    const label = readFileSync(labelFile, 'utf8').trim();
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

/** CPU seconds of the children this process has waited for (a finished pgbench run, for one). */
export function reapedChildrenCpuSeconds(): number {
  const fields = statFields(`/proc/${process.pid}/stat`)!;
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

/** Busy CPU seconds of the whole machine, all cores (everything but idle and I/O wait). */
export function machineBusyCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  return (total - values[3]! - values[4]!) / TICKS_PER_SECOND;
}
