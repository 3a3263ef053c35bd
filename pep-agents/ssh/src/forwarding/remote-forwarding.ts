// ssh -R (tcpip-forward): the host listens on address:port and hands each connection back to the
// client, decided as an inbound `network` action before the host is asked to listen. The
// listener is one session entry when it is cancelled or the connection ends.
import { clientSafeText } from '@portcullis/pep-core';
import type { Client, ClientChannel, Connection, ServerChannel, TcpConnectionDetails } from 'ssh2';
import type { SshConnectionContext } from '../server/ssh-connection-context.ts';
import { decideForwarding } from './network-decision.ts';

interface Listener {
  readonly decisionId: string;
  readonly startedAt: number;
  connections: number;
}

/** The listeners one client connection holds on the host, by `address:port` as the host bound them. */
export class RemoteForwards {
  private readonly listeners = new Map<string, Listener>();
  private routed: Client | undefined;

  constructor(
    private readonly context: SshConnectionContext,
    private readonly connection: Connection,
  ) {}

  async request(accept: ((port?: number) => void) | undefined, reject: (() => void) | undefined, address: string, port: number): Promise<void> {
    const { context } = this;
    const answer = await decideForwarding(context, 'inbound', address, port);
    if (answer.effect !== 'allow') {
      context.log(`refused listening on ${clientSafeText(`${address}:${port}`)}: ${answer.effect} ${answer.reasons.map((reason) => reason.code).join(', ')}`, {
        session: context.session.id,
        decision_id: answer.decision_id,
      });
      return reject?.();
    }
    try {
      const upstream = await context.upstream();
      this.route(upstream);
      const bound = await new Promise<number>((resolve, fail) => upstream.forwardIn(address, port, (error, chosen) => (error ? fail(error) : resolve(chosen))));
      this.listeners.set(`${address}:${bound}`, { decisionId: answer.decision_id, startedAt: performance.now(), connections: 0 });
      accept?.(bound);
    } catch (error) {
      context.log(`listening on ${clientSafeText(`${address}:${port}`)} failed upstream: ${error instanceof Error ? error.message : String(error)}`, { session: context.session.id });
      reject?.();
    }
  }

  async cancel(accept: (() => void) | undefined, reject: (() => void) | undefined, address: string, port: number): Promise<void> {
    const listener = this.listeners.get(`${address}:${port}`);
    if (!listener) return reject?.();
    try {
      const upstream = await this.context.upstream();
      await new Promise<void>((resolve, fail) => upstream.unforwardIn(address, port, (error?: Error | null) => (error ? fail(error) : resolve())));
    } catch {
      // The host side is gone already; the listener ends here either way.
    }
    this.finish(`${address}:${port}`, listener);
    accept?.();
  }

  /** The connection ended: every listener is on the record. */
  end(): void {
    for (const [key, listener] of this.listeners) this.finish(key, listener);
  }

  /** Connections the host accepted on a listener this client holds go back to this client, and only those. */
  private route(upstream: Client): void {
    if (this.routed === upstream) return;
    this.routed = upstream;
    upstream.on('tcp connection', (details: TcpConnectionDetails, accept: () => ClientChannel, reject: () => void) => {
      const listener = this.listeners.get(`${details.destIP}:${details.destPort}`);
      if (!listener) return reject();
      this.connection.forwardOut(details.destIP, details.destPort, details.srcIP, details.srcPort, (error: Error | undefined, channel: ServerChannel) => {
        if (error) return reject();
        listener.connections += 1;
        const remote = accept();
        remote.pipe(channel).pipe(remote);
        remote.once('close', () => channel.close());
        channel.once('close', () => remote.close());
      });
    });
  }

  private finish(key: string, listener: Listener): void {
    if (!this.listeners.delete(key)) return;
    this.context.recorder.statement({
      text: `listen on ${key} (${listener.connections} connection${listener.connections === 1 ? '' : 's'})`,
      kind: 'network',
      decisionId: listener.decisionId,
      status: 'success',
      durationMs: performance.now() - listener.startedAt,
    });
  }
}
