import { labelledThreadCpuSeconds, machineBusyCpuSeconds, processTreeCpuSeconds, reapedChildrenCpuSeconds } from './process-cpu.ts';

/** A process whose CPU is read: whole (with its descendants), or split by labelled thread. */
export interface MeteredProcess {
  readonly name: string;
  readonly pid: number;
  /** THREAD_LABELS_PRELOAD's folder for this process: its CPU is then split as `<name> <label>`. */
  readonly threadLabelsDir?: string;
}

/** CPU seconds by name at one moment, and when. */
export interface CpuReading {
  readonly seconds: Record<string, number>;
  readonly at: number;
}

/** What a stretch of time cost: CPU seconds by name, and its length. */
export interface CpuSpent {
  readonly seconds: Record<string, number>;
  readonly elapsedSeconds: number;
}

/**
 * Reads the CPU of the processes a bench measures, from /proc: each named process (its threads by
 * label where it has them), `load generator` (the children this bench process has waited for:
 * wrk or pgbench runs), and `machine` (every core's busy time), so `machine` minus the rest is
 * what nothing measured accounts for (other work on a shared machine, the kernel's softirq).
 */
export class CpuMeter {
  constructor(private readonly processes: readonly MeteredProcess[]) {}

  read(): CpuReading {
    const seconds: Record<string, number> = {};
    for (const process of this.processes) {
      if (process.threadLabelsDir === undefined) {
        seconds[process.name] = processTreeCpuSeconds(process.pid);
        continue;
      }
      for (const [label, value] of Object.entries(labelledThreadCpuSeconds(process.pid, process.threadLabelsDir))) seconds[`${process.name} ${label}`] = value;
    }
    seconds['load generator'] = reapedChildrenCpuSeconds();
    seconds.machine = machineBusyCpuSeconds();
    return { seconds, at: Date.now() };
  }

  static spent(before: CpuReading, after: CpuReading): CpuSpent {
    const seconds: Record<string, number> = {};
    for (const [name, value] of Object.entries(after.seconds)) seconds[name] = value - (before.seconds[name] ?? 0);
    return { seconds, elapsedSeconds: (after.at - before.at) / 1000 };
  }
}

/** The sum of every entry whose name starts with `prefix` (a process split by thread, whole again). */
export function sumOf(seconds: Record<string, number>, prefix: string): number {
  return Object.entries(seconds).filter(([name]) => name.startsWith(prefix)).reduce((sum, [, value]) => sum + value, 0);
}
