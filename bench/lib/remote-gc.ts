import { WebSocket } from 'ws';

/**
 * Runs a full garbage collection in another Node process through its inspector (started with
 * --inspect on loopback), so heap figures compare live objects rather than uncollected garbage.
 */
export class RemoteGc {
  #sequence = 0;

  private constructor(private readonly socket: WebSocket) {}

  static async connect(inspectorPort: number): Promise<RemoteGc> {
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
    const target = targets[0];
    if (target === undefined) throw new Error(`no inspector target on port ${inspectorPort}`);
    const socket = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new RemoteGc(socket);
  }

  /** Resolves once the process has run a full collection. */
  collect(): Promise<void> {
    const id = (this.#sequence += 1);
    return new Promise((resolve, reject) => {
      const onMessage = (data: Buffer): void => {
        const message = JSON.parse(data.toString()) as { id?: number; error?: { message: string } };
        if (message.id !== id) return;
        this.socket.off('message', onMessage);
        if (message.error) reject(new Error(`collectGarbage: ${message.error.message}`));
        else resolve();
      };
      this.socket.on('message', onMessage);
      this.socket.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
