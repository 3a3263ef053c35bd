import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Holds every thread of a running process to the given CPUs (`taskset -a -p -c`, e.g. "0" or
 * "0-1"); threads it starts later inherit the set. A Node.js process starts its worker threads
 * when it starts, so pinning after readiness covers all of them.
 */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * Pins a process and every descendant it has now, all their threads, to one core. Processes
 * started later by one of them inherit it (a PostgreSQL backend forked by the postmaster,
 * pgbench started by the bench).
 */
export function pinTreeToCore(rootPid: number, core: number): void {
  for (const pid of processTree(rootPid)) {
    try {
      pinProcess(pid, String(core));
    } catch (error) {
      // A descendant may end between listing and pinning; the root must not.
      if (pid === rootPid) throw new Error(`taskset could not pin process ${pid} to core ${core}: ${(error as Error).message}`);
    }
  }
}

function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid === undefined) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const tree: number[] = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function parentOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(') ') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}
