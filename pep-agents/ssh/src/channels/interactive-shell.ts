// An interactive shell, decided once when it opens (per-line gating of a shell is not sound: the
// PEP cannot know what a keystroke will run, so it does not pretend to) and relayed whole. What
// the host sends passes the byte-stream masks policy asked for before the client sees it; the
// whole session is recorded as asciicast v2 (output exactly as the client was sent it, input as
// typed, resizes) under the decision that opened it, and is one entry in the session record with
// its bytes and masked count. No record, no session: a recording that cannot keep up ends it.
import type { ByteStreamMasker, ByteStreamMaskV1, DecisionAnswer } from '@portcullis/pep-core';
import type { ClientChannel, PseudoTtyOptions, ServerChannel } from 'ssh2';
import { relayOutput } from '../exec/output-relay.ts';
import type { SshConnectionContext } from '../server/ssh-connection-context.ts';

export interface InteractiveShell {
  readonly context: SshConnectionContext;
  /** The allow that opened it. */
  readonly answer: DecisionAnswer<ByteStreamMaskV1>;
  readonly channel: ServerChannel;
  readonly pty: PseudoTtyOptions | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly stdoutMasker: ByteStreamMasker | undefined;
  readonly stderrMasker: ByteStreamMasker | undefined;
  /** The host's channel once open, and where the client's window changes are recorded. */
  readonly onStarted?: (remote: ClientChannel, resized: (cols: number, rows: number) => void) => void;
  /** The client's channel or connection went away: the relay stops, the host's shell is ended. */
  readonly gone: AbortSignal;
  /**
   * An exec with a terminal: this command runs instead of the login shell, recorded the same way
   * (a terminal makes any program interactive). Its session entry is the command gate's, so none
   * is written here.
   */
  readonly command?: string;
}

/** How a recorded terminal session ended, and what it sent the client. */
export interface InteractiveOutcome {
  readonly exit: { readonly code: number } | { readonly signal: string } | undefined;
  readonly bytes: number;
  readonly masked: number;
}

export class RecordingUnavailableError extends Error {
  constructor() {
    super('the session recording cannot keep up, so no interactive session opens');
    this.name = 'RecordingUnavailableError';
  }
}

/** How long the host's output may wait for the session record before the session ends. */
const RECORDING_WAIT_MS = 30_000;

export async function runInteractiveShell(shell: InteractiveShell): Promise<InteractiveOutcome> {
  const { context, channel } = shell;
  const recording = context.terminalRecorder(shell.answer.decision_id, {
    cols: shell.pty?.cols ?? 80,
    rows: shell.pty?.rows ?? 24,
    ...(shell.pty?.term ? { term: shell.pty.term } : {}),
  });
  if (!recording.canRecord()) {
    recording.end();
    throw new RecordingUnavailableError();
  }
  const upstream = await context.upstream();
  const startedAt = performance.now();
  const remote = await new Promise<ClientChannel>((resolve, reject) => {
    const opened = (error: Error | undefined, stream: ClientChannel): void => (error ? reject(error) : resolve(stream));
    if (shell.command === undefined) upstream.shell(shell.pty ?? false, { env: { ...shell.env } }, opened);
    else upstream.exec(shell.command, { pty: shell.pty ?? true, env: { ...shell.env } }, opened);
  });
  shell.onStarted?.(remote, (cols, rows) => recording.resize(cols, rows));
  let exit: { code: number } | { signal: string } | undefined;
  remote.on('exit', (code: number | null, signal?: string) => {
    exit = code === null || code === undefined ? { signal: signal ?? 'SIGKILL' } : { code };
  });
  channel.on('data', (chunk: Buffer) => {
    recording.input(chunk);
    if (!remote.write(chunk)) {
      channel.pause();
      remote.once('drain', () => channel.resume());
    }
  });
  channel.once('end', () => remote.end());
  const leave = (): void => remote.close();
  if (shell.gone.aborted) leave();
  else shell.gone.addEventListener('abort', leave, { once: true });
  // A host that prints faster than its record is stored waits for the record (its output paused),
  // as it would for a slow client; only a record stuck for RECORDING_WAIT_MS ends the session.
  let waiting = false;
  const sent = (chunk: Buffer): void => {
    recording.output(chunk);
    if (recording.canRecord()) return;
    // Paused again on every chunk: the client's drain may have resumed the host meanwhile.
    remote.pause();
    remote.stderr.pause();
    if (waiting) return;
    waiting = true;
    void recording.whenCanRecord(RECORDING_WAIT_MS).then((ready) => {
      waiting = false;
      if (ready) {
        remote.resume();
        remote.stderr.resume();
        return;
      }
      channel.stderr.write('\r\nportcullis: the session recording cannot keep up, so the session ends\r\n');
      remote.close();
    });
  };
  const [out, err] = await Promise.all([
    relayOutput(remote, channel, shell.stdoutMasker, sent, shell.gone),
    relayOutput(remote.stderr, channel.stderr, shell.stderrMasker, sent, shell.gone),
    new Promise<void>((done) => {
      remote.once('close', () => done());
      shell.gone.addEventListener('abort', () => done(), { once: true });
    }),
  ]);
  try {
    if (exit && 'code' in exit) channel.exit(exit.code);
    else if (exit) channel.exit(exit.signal.replace(/^SIG/, ''), false, '');
  } catch {
    // An unknown signal name: the channel ends without one.
  }
  channel.end();
  recording.end();
  const outcome: InteractiveOutcome = { exit, bytes: out.bytes + err.bytes, masked: out.masked + err.masked };
  if (shell.command !== undefined) return outcome;
  const failed = !exit || !('code' in exit) || exit.code !== 0;
  context.recorder.statement({
    text: shell.pty ? '(interactive shell, pty)' : '(interactive shell)',
    kind: 'shell',
    decisionId: shell.answer.decision_id,
    status: failed ? 'failure' : 'success',
    ...(failed ? { error: !exit ? 'the host sent no exit status' : 'code' in exit ? `exit status ${exit.code}` : `killed by ${exit.signal}` } : {}),
    durationMs: performance.now() - startedAt,
    bytes: out.bytes + err.bytes,
    maskedCells: out.masked + err.masked,
  });
  return outcome;
}
