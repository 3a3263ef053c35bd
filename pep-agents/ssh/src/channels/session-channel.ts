// One SSH session channel: what it asks for before it starts (a PTY, environment variables,
// forwarding of X11 or the agent), then the one thing it runs (an exec, a shell, a subsystem).
// Every start is decided: an exec command by command through the command gate, a shell, a
// subsystem or an exec with a PTY first as `connect` with its channel and PTY. Nothing reaches the
// host before its decision allowed it.
import { ByteStreamMasker, byteStreamMasksSupported, clientSafeText, CommandGate, refusalFor, type ByteStreamMaskV1, type CommandOutcome, type DecisionAnswer, type PepAction } from '@portcullis/pep-core';
import type { AcceptConnection, AcceptSftpConnection, ClientChannel, PseudoTtyInfo, PseudoTtyOptions, RejectConnection, ServerChannel, Session } from 'ssh2';
import { ExecAdapter, type ExecCommand, type ExecRefusal } from '../exec/exec-adapter.ts';
import { runUpstream } from '../exec/exec-runner.ts';
import { EXIT_BAD_REQUEST, EXIT_RETRY_LATER, EXIT_UPSTREAM_UNAVAILABLE } from '../exec/exit-statuses.ts';
import type { ChannelSetup, SshConnectionContext, SshPepExtensions } from '../server/ssh-connection-context.ts';
import { RecordingUnavailableError, runInteractiveShell } from './interactive-shell.ts';
import { envRefusal } from './env-allow-list.ts';

const adapter = new ExecAdapter();

export interface SessionChannelOptions {
  readonly envAllowList: readonly string[];
  readonly extensions: SshPepExtensions;
}

export class SessionChannel {
  private pty: PseudoTtyInfo | undefined;
  private readonly env: Record<string, string> = {};
  private started = false;
  /** The host's side of this channel once it runs (window changes and signals go there). */
  private remote: ClientChannel | undefined;
  /** Where window changes are recorded, for an interactive session. */
  private resized: ((cols: number, rows: number) => void) | undefined;

  constructor(
    private readonly session: Session,
    private readonly context: SshConnectionContext,
    private readonly options: SessionChannelOptions,
  ) {
    session.on('pty', (accept, reject, info) => {
      if (this.started) return reject?.();
      this.pty = info;
      accept?.();
    });
    session.on('env', (accept, reject, info) => this.onEnv(accept, reject, info.key, info.val));
    session.on('window-change', (accept, _reject, info) => {
      this.remote?.setWindow(info.rows, info.cols, info.height, info.width);
      this.resized?.(info.cols, info.rows);
      accept?.();
    });
    session.on('signal', (accept, _reject, info) => {
      try {
        this.remote?.signal(info.name);
      } catch {
        // A signal name SSH does not define: nothing to forward.
      }
      accept?.();
    });
    session.on('x11', (_accept, reject) => void this.refuseForwarding('x11', reject));
    session.on('auth-agent', (_accept, reject) => void this.refuseForwarding('agent-forwarding', reject));
    session.on('exec', (accept, reject, info) => this.start(reject, () => context.track(this.exec(accept, info.command))));
    session.on('shell', (accept, reject) => this.start(reject, () => context.track(this.shell(accept))));
    session.on('sftp', (accept, reject) => this.start(reject, () => this.sftp(accept, reject)));
    session.on('subsystem', (_accept, reject, info) => {
      context.log(`refused the ${clientSafeText(info.name)} subsystem: only sftp is served`, { session: context.session.id });
      reject();
    });
  }

  private get setup(): ChannelSetup {
    return { pty: this.pty, env: { ...this.env } };
  }

  private start(reject: RejectConnection, begin: () => void): void {
    if (this.started) return reject();
    this.started = true;
    begin();
  }

  private onEnv(accept: (() => void) | undefined, reject: RejectConnection | undefined, name: string, value: string): void {
    const refusal = this.started ? 'the session already started' : envRefusal(this.options.envAllowList, name, value);
    if (refusal) {
      this.context.log(`refused an env request: ${clientSafeText(refusal)}`, { session: this.context.session.id });
      reject?.();
      return;
    }
    this.env[name] = value;
    accept?.();
  }

  /** X11 and agent forwarding are asked about (so the record has them), and not offered either way. */
  private async refuseForwarding(channel: 'x11' | 'agent-forwarding', reject: RejectConnection | undefined): Promise<void> {
    const answer = await this.decideOpen({ channel }, undefined, this.context.closed);
    this.context.log(`refused ${channel}: ${answer.effect === 'allow' ? 'this PEP does not relay it' : `policy: ${answer.effect}`}`, { session: this.context.session.id, decision_id: answer.decision_id });
    reject?.();
  }

  private async exec(accept: AcceptConnection<ServerChannel>, command: string): Promise<void> {
    const channel = accept();
    if (command.includes('\0')) {
      // sshd would cut the command at the NUL: the host would run less than the PDP judged.
      return finish(channel, EXIT_BAD_REQUEST, ['portcullis: the command holds a NUL byte, which the host would cut it at; nothing was run']);
    }
    const handler = this.options.extensions.execHandlers?.find((candidate) => candidate.handles(command));
    if (handler) return handler.run(channel, command, this.context, this.setup);

    const abort = this.abortOnClose(channel);
    if (this.pty) {
      // A terminal turns a read-only program into an interactive one (a pager's shell escape): asked about first.
      const opened = await this.decideOpen({ channel: 'exec', pty: true }, channel, abort.signal);
      if (opened.effect !== 'allow') return finishRefused(channel, opened);
    }
    const gate = new CommandGate<ExecCommand, ExecRefusal, ByteStreamMaskV1>(
      adapter,
      this.context.authorizer,
      () => ({ subjectToken: this.context.subjectToken, session: this.context.session, signal: abort.signal, notify: (message) => writeLine(channel, message) }),
      { recorder: this.context.recorder },
    );
    try {
      const result = await gate.run({ text: command }, async (answer) => {
        // With a terminal the command is an interactive session: recorded whole, as a shell is.
        if (this.pty) return this.runWithTerminal(command, answer, channel, abort.signal);
        const upstream = await this.context.upstream();
        return runUpstream({
          upstream,
          command,
          env: this.env,
          pty: this.pty ? ptyOptions(this.pty) : undefined,
          channel,
          gone: abort.signal,
          ...this.maskers(answer),
          onStarted: (remote) => (this.remote = remote),
        });
      });
      if (!result.ran) finish(channel, result.refusal.exitStatus, result.refusal.lines);
    } catch (error) {
      if (error instanceof RecordingUnavailableError) return finish(channel, EXIT_RETRY_LATER, [`portcullis: ${error.message}; try again shortly`]);
      this.context.log(`exec failed upstream: ${error instanceof Error ? error.message : String(error)}`, { session: this.context.session.id });
      finish(channel, EXIT_UPSTREAM_UNAVAILABLE, [`portcullis: the host behind the PEP is unavailable (${clientSafeText(error instanceof Error ? error.message : String(error))})`]);
    }
  }

  /** An allowed exec with a terminal, run and recorded as an interactive session; what the gate records of it. */
  private async runWithTerminal(command: string, answer: DecisionAnswer<ByteStreamMaskV1>, channel: ServerChannel, gone: AbortSignal): Promise<CommandOutcome> {
    const { exit, bytes, masked } = await runInteractiveShell({
      context: this.context,
      answer,
      channel,
      pty: this.pty ? ptyOptions(this.pty) : undefined,
      env: this.env,
      gone,
      command,
      ...this.maskers(answer),
      onStarted: (remote, resized) => {
        this.remote = remote;
        this.resized = resized;
      },
    });
    if (exit && 'code' in exit && exit.code === 0) return { status: 'success', bytes, masked };
    const error = !exit ? 'the host sent no exit status' : 'code' in exit ? `exit status ${exit.code}` : `killed by ${exit.signal}`;
    return { status: 'failure', error, bytes, masked };
  }

  private async shell(accept: AcceptConnection<ServerChannel>): Promise<void> {
    const channel = accept();
    const abort = this.abortOnClose(channel);
    const answer = await this.decideOpen({ channel: 'shell', pty: this.pty !== undefined }, channel, abort.signal);
    // An allow with masks this PEP cannot apply is refused too (finishRefused words it).
    if (answer.effect !== 'allow' || !byteStreamMasksSupported(answer.obligations.mask)) return finishRefused(channel, answer);
    try {
      await runInteractiveShell({
        context: this.context,
        answer,
        channel,
        pty: this.pty ? ptyOptions(this.pty) : undefined,
        env: this.env,
        gone: abort.signal,
        ...this.maskers(answer),
        onStarted: (remote, resized) => {
          this.remote = remote;
          this.resized = resized;
        },
      });
    } catch (error) {
      if (error instanceof RecordingUnavailableError) return finish(channel, EXIT_RETRY_LATER, [`portcullis: ${error.message}; try again shortly`]);
      this.context.log(`shell failed upstream: ${error instanceof Error ? error.message : String(error)}`, { session: this.context.session.id });
      finish(channel, EXIT_UPSTREAM_UNAVAILABLE, [`portcullis: the host behind the PEP is unavailable (${clientSafeText(error instanceof Error ? error.message : String(error))})`]);
    }
  }

  private sftp(accept: AcceptSftpConnection, reject: RejectConnection): void {
    const serve = this.options.extensions.sftp;
    if (!serve) {
      this.context.log('refused the sftp subsystem: this PEP serves no file operations', { session: this.context.session.id });
      return reject();
    }
    // Accepted at once: the client's first SFTP requests follow its subsystem request without waiting for the reply.
    const client = accept();
    const opened = this.decideOpen({ channel: 'subsystem', subsystem: 'sftp', pty: this.pty !== undefined }, undefined, this.context.closed).then((answer) => {
      if (answer.effect !== 'allow') this.context.log(`refused the sftp subsystem: policy: ${answer.effect}`, { session: this.context.session.id, decision_id: answer.decision_id });
      return answer.effect === 'allow';
    });
    serve(client, opened, this.context, this.setup);
  }

  /** `connect` for one session request; approvals are held with the notice on the channel's stderr. */
  private decideOpen(
    fields: { channel: 'shell' | 'exec' | 'subsystem' | 'x11' | 'agent-forwarding'; pty?: boolean; subsystem?: string },
    channel?: ServerChannel,
    signal?: AbortSignal,
  ): Promise<DecisionAnswer<ByteStreamMaskV1>> {
    const action: PepAction = { type: 'connect', protocol: 'ssh', user: this.context.loginName, ...fields };
    return this.context.authorizer.authorize(
      action,
      {
        subjectToken: this.context.subjectToken,
        session: this.context.session,
        ...(signal ? { signal } : {}),
        notify: (message) => (channel ? writeLine(channel, message) : this.context.log(message)),
      },
      channel ? {} : { approvalWaitMs: 0 },
    );
  }

  /** Stops a decision or approval wait when the channel or the whole connection goes away. */
  private abortOnClose(channel: ServerChannel): { signal: AbortSignal } {
    const channelClosed = new AbortController();
    channel.once('close', () => channelClosed.abort());
    return { signal: AbortSignal.any([channelClosed.signal, this.context.closed]) };
  }

  private maskers(answer: DecisionAnswer<ByteStreamMaskV1>): { stdoutMasker: ByteStreamMasker | undefined; stderrMasker: ByteStreamMasker | undefined } {
    // With a terminal the host writes stderr into the one terminal stream: what is masked on stderr is masked there too.
    const masks = this.pty ? answer.obligations.mask.map((mask) => (mask.stream === 'stderr' ? { ...mask, stream: 'stdout' } : mask)) : answer.obligations.mask;
    return {
      stdoutMasker: ByteStreamMasker.for(masks, 'stdout', this.context.strategies),
      stderrMasker: ByteStreamMasker.for(masks, 'stderr', this.context.strategies),
    };
  }
}

function ptyOptions(info: PseudoTtyInfo): PseudoTtyOptions {
  return { rows: info.rows, cols: info.cols, height: info.height, width: info.width, term: info.term };
}

function writeLine(channel: ServerChannel, line: string): void {
  channel.stderr.write(`${line}\n`);
}

function finish(channel: ServerChannel, exitStatus: number, lines: readonly string[]): void {
  for (const line of lines) writeLine(channel, line);
  channel.exit(exitStatus);
  channel.end();
}

function finishRefused(channel: ServerChannel, answer: DecisionAnswer<ByteStreamMaskV1>): void {
  const decided = refusalFor(answer);
  const refusal = decided
    ? adapter.refuse({ reason: 'decision', answer, refusal: decided })
    : adapter.refuse({ reason: 'masking-unavailable', answer });
  finish(channel, refusal.exitStatus, refusal.lines);
}
