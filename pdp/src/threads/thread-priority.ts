import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export type PriorityChange = { readonly ok: true; readonly threadId: number } | { readonly ok: false; readonly reason: string };

/**
 * Lowers the scheduling priority of the calling thread alone (its niceness, 1–19). On Linux
 * setpriority(PRIO_PROCESS, id) applies to the thread whose id it is given, and Node's
 * os.setPriority passes the id through; the calling thread's id is where /proc/thread-self
 * points. Elsewhere, or where /proc is not mounted, nothing changes and the reason is returned:
 * lowering the whole process instead would slow the threads it must not.
 */
export function lowerThisThreadPriority(niceness: number): PriorityChange {
  if (process.platform !== 'linux') return { ok: false, reason: `thread priorities are only set on Linux, not ${process.platform}` };
  let threadId: number;
  try {
    // "<pid>/task/<tid>"
    threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch (error) {
    return { ok: false, reason: `cannot read /proc/thread-self: ${(error as Error).message}` };
  }
  if (!Number.isSafeInteger(threadId) || threadId <= 0) return { ok: false, reason: 'cannot tell this thread\'s id' };
  // The main thread's id is the process id: lowering it would lower the live path too.
  if (threadId === process.pid) return { ok: false, reason: 'refusing to lower the main thread' };
  try {
    setPriority(threadId, niceness);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  return { ok: true, threadId };
}
