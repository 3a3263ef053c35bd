// A PEP for a made-up line protocol, built on the SDK the way a real one is: a protocol adapter,
// a session per connection on the SDK's connection server, every command through the command
// gate. The client's first line is `TOKEN <jwt>`; each later line is one command (`NOWAIT <command>`:
// the client cannot wait for an approval), answered with `OK …` when it ran or
// `ERR <kind> <code> <message>[ HINT <hint>]` when refused; lines starting `# ` are hints while a
// command is held. Its "resource" only notes what ran.
import { randomUUID } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import {
  CommandGate,
  ConnectionServer,
  PdpConnection,
  type CommandDescription,
  type GateRefusal,
  type MaskKindV1,
  type MaskTargetV1,
  type PepAction,
  type ProtocolAdapter,
  type ResourceV1,
  type ServedSession,
} from '../../src/index.ts';

interface LineCommand {
  readonly text: string;
}

/** Lines as shell commands (an SSH-like resource) or as SQL (a database): the PDP decides either. */
export class LineProtocolAdapter implements ProtocolAdapter<LineCommand, string, MaskTargetV1> {
  constructor(private readonly actionType: 'shell' | 'sql') {}

  action(command: LineCommand): PepAction {
    return this.actionType === 'shell' ? { type: 'shell', command: command.text } : { type: 'sql', sql: command.text };
  }

  describe(command: LineCommand): CommandDescription {
    return { text: command.text };
  }

  /** A line of text has no structure to mask in: any mask obligation is refused. */
  canMask(masks: readonly MaskTargetV1[]): boolean {
    return masks.length === 0;
  }

  refuse(refusal: GateRefusal<MaskTargetV1>): string {
    switch (refusal.reason) {
      case 'decision': {
        const { kind, code, message, hint } = refusal.refusal;
        return `ERR ${kind} ${code} ${message}${hint ? ` HINT ${hint}` : ''}`;
      }
      case 'record-unavailable':
        return 'ERR unavailable audit-unavailable the session record cannot keep up';
      case 'token-expired':
        return `ERR unauthenticated token-expired [decision ${refusal.answer.decision_id}]`;
      case 'masking-unavailable':
        return `ERR denied masking-unavailable the output must be masked and this PEP cannot [decision ${refusal.answer.decision_id}]`;
    }
  }
}

class LineSession implements ServedSession {
  readonly id = randomUUID();
  private readonly ended = new AbortController();

  constructor(
    private readonly socket: Socket,
    private readonly pep: { readonly pdp: PdpConnection<MaskKindV1>; readonly resource: ResourceV1; readonly protocol: 'shell' | 'sql'; readonly adapter: LineProtocolAdapter; readonly ran: string[] },
  ) {}

  async run(): Promise<void> {
    this.socket.once('close', () => this.ended.abort());
    const lines = createInterface({ input: this.socket, crlfDelay: Infinity });
    let gate: CommandGate<LineCommand, string, MaskTargetV1> | undefined;
    let end = (): void => undefined;
    try {
      for await (const line of lines) {
        if (!gate) {
          const subjectToken = line.replace(/^TOKEN /, '');
          const session = { id: this.id, client_addr: '127.0.0.1' };
          const recorder = this.pep.pdp.recorders(this.pep.resource, this.pep.protocol)(session, subjectToken);
          recorder.start();
          end = () => recorder.end('client-closed');
          gate = new CommandGate(this.pep.adapter, this.pep.pdp.authorizer(this.pep.resource), () => ({
            subjectToken,
            session,
            signal: this.ended.signal,
            notify: (message) => this.write(`# ${message}`),
          }), { recorder });
          this.write(`READY ${this.id}`);
          continue;
        }
        const noWait = line.startsWith('NOWAIT ');
        const text = noWait ? line.slice('NOWAIT '.length) : line;
        const result = await gate.run(
          { text },
          async () => {
            this.pep.ran.push(text);
            const output = `OK ran ${text}`;
            this.write(output);
            return { status: 'success', bytes: Buffer.byteLength(output) };
          },
          noWait ? { approvalWaitMs: 0 } : {},
        );
        if (!result.ran) this.write(result.refusal);
      }
    } catch {
      // the client went away mid-line
    } finally {
      end();
      this.socket.destroy();
    }
  }

  shutdown(): void {
    this.write('BYE the PEP is shutting down');
    this.socket.end();
  }

  private write(line: string): void {
    if (this.socket.writable) this.socket.write(`${line}\n`);
  }
}

export interface LinePep {
  readonly port: number;
  readonly pdp: PdpConnection<MaskKindV1>;
  readonly server: ConnectionServer<ServedSession>;
  /** Commands that reached the "resource", in order. */
  readonly ran: readonly string[];
  close(): Promise<void>;
}

export async function startLinePep(options: {
  readonly pdpUrl: string;
  readonly pepToken: string;
  readonly resource: ResourceV1;
  readonly actionType: 'shell' | 'sql';
  readonly approvalWaitMs: number;
  /** How long closing may take to ship the session records still queued. */
  readonly shutdownGraceMs?: number;
  /** The kinds of mask obligation this PEP says it enforces (SQL columns unless told). */
  readonly maskKinds?: readonly MaskKindV1[];
}): Promise<LinePep> {
  const pdp = new PdpConnection<MaskKindV1>(
    { url: options.pdpUrl, token: { env: 'LINE_PEP_TOKEN' }, timeoutMs: 2000, approvalWaitMs: options.approvalWaitMs, shutdownGraceMs: options.shutdownGraceMs ?? 5000 },
    { log: () => undefined, env: { LINE_PEP_TOKEN: options.pepToken }, maskKinds: options.maskKinds ?? ['sql-column'] },
  );
  const ran: string[] = [];
  const adapter = new LineProtocolAdapter(options.actionType);
  const server = new ConnectionServer<ServedSession>({
    session: (socket) => new LineSession(socket, { pdp, resource: options.resource, protocol: options.actionType, adapter, ran }),
    maxConnections: 8,
    refuseOverLimit: (socket) => socket.end('ERR unavailable too-many-connections\n'),
  });
  const address = await server.listen('127.0.0.1', 0);
  return {
    port: address.port,
    pdp,
    server,
    ran,
    async close() {
      await server.close();
      await pdp.close();
    },
  };
}

/** A client of the line protocol: sends lines, reads the PEP's lines one at a time. */
export class LineClient {
  private readonly lines: string[] = [];
  private waiting: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => {
      this.lines.push(line);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  static async connect(port: number, token: string): Promise<{ client: LineClient; sessionId: string }> {
    const socket = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new LineClient(socket);
    client.send(`TOKEN ${token}`);
    const ready = await client.next();
    return { client, sessionId: ready.replace(/^READY /, '') };
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** The next line the PEP sent (waits for it); rejects once the connection closed with none left. */
  async next(): Promise<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.closed) throw new Error('the PEP closed the connection');
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = undefined;
    }
  }

  /** One command and its answer, hint lines (`# …`) collected apart. */
  async command(line: string): Promise<{ answer: string; hints: string[] }> {
    this.send(line);
    const hints: string[] = [];
    for (;;) {
      const next = await this.next();
      if (!next.startsWith('# ')) return { answer: next, hints };
      hints.push(next.slice(2));
    }
  }

  close(): void {
    this.socket.end();
  }
}
