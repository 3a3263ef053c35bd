import { execFileSync } from 'node:child_process';

/**
 * Holds every thread of a running process to the given CPUs (`taskset -a -p -c`, e.g. "0" or
 * "0-1"); threads it starts later inherit the set. A Node.js process starts its worker threads
 * when it starts, so pinning after readiness covers all of them.
 */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
