// What a port-forward carried, for its session entry: the bytes each way per port, the streams
// opened and the ones refused because their port was not decided.
import type { CommandOutcome } from '@portcullis/pep-core';

export class PortForwardRecorder {
  private readonly toPod = new Map<number, number>();
  private readonly fromPod = new Map<number, number>();
  private readonly refused = new Set<number>();
  private streams = 0;
  private failure: string | undefined;

  opened(port: number): void {
    this.streams += 1;
    if (!this.toPod.has(port)) this.toPod.set(port, 0);
    if (!this.fromPod.has(port)) this.fromPod.set(port, 0);
  }

  /** A stream the PEP refused; `port` undefined when its header named no readable port. */
  refusedStream(port: number | undefined): void {
    this.refused.add(port ?? 0);
  }

  sent(port: number, bytes: number): void {
    this.toPod.set(port, (this.toPod.get(port) ?? 0) + bytes);
  }

  received(port: number, bytes: number): void {
    this.fromPod.set(port, (this.fromPod.get(port) ?? 0) + bytes);
  }

  fail(reason: string): void {
    this.failure ??= reason;
  }

  finish(): CommandOutcome {
    const refused = [...this.refused].sort((a, b) => a - b).map((port) => (port === 0 ? 'an unreadable port' : String(port)));
    const error = this.failure ?? (refused.length > 0 ? `streams refused (port not decided): ${refused.join(', ')}` : undefined);
    let bytes = 0;
    for (const count of this.fromPod.values()) bytes += count;
    return { status: error === undefined ? 'success' : 'failure', ...(error === undefined ? {} : { error }), bytes, kind: 'port-forward' };
  }

  get totals(): { readonly streams: number; readonly ports: readonly number[]; readonly refused: readonly number[]; readonly sent: ReadonlyMap<number, number>; readonly received: ReadonlyMap<number, number> } {
    return { streams: this.streams, ports: [...this.toPod.keys()], refused: [...this.refused], sent: this.toPod, received: this.fromPod };
  }
}
