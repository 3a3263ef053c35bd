// Runs an allowed command on the host and relays it: the command text goes to the host exactly as
// the PDP judged it (sshd hands it to the account's shell, checked at start to be the one the
// PDP's parser models), stdin flows up, stdout and stderr flow back through the byte-stream
// maskers policy asked for, and the host's exit status or signal ends the client's channel.
import type { ByteStreamMasker, CommandOutcome } from '@portcullis/pep-core';
import type { Client, ClientChannel, PseudoTtyOptions, ServerChannel } from 'ssh2';
import { relayOutput } from './output-relay.ts';

export interface ExecRun {
  readonly upstream: Client;
  readonly command: string;
  /** Allow-listed `env` requests the client made on this channel. */
  readonly env: Readonly<Record<string, string>>;
  readonly pty: PseudoTtyOptions | undefined;
  readonly channel: ServerChannel;
  readonly stdoutMasker: ByteStreamMasker | undefined;
  readonly stderrMasker: ByteStreamMasker | undefined;
  /** The client's channel or connection went away: the relay stops, the host's command is ended. */
  readonly gone: AbortSignal;
  /** Called with the host's channel once it is open (signals and window changes go to it). */
  readonly onStarted?: (remote: ClientChannel) => void;
}

/** How the command ended on the host: an exit status, or the signal that ended it. */
export type HostExit = { readonly code: number } | { readonly signal: string; readonly coreDumped: boolean } | undefined;

export function runUpstream(run: ExecRun): Promise<CommandOutcome & { readonly exit: HostExit }> {
  const { upstream, command, channel } = run;
  return new Promise((resolve, reject) => {
    upstream.exec(command, { env: { ...run.env }, ...(run.pty ? { pty: run.pty } : {}) }, (error, remote) => {
      if (error) {
        reject(error);
        return;
      }
      run.onStarted?.(remote);
      let exit: HostExit;
      remote.on('exit', (code: number | null, signal?: string, coreDumped?: boolean) => {
        exit = code === null || code === undefined ? { signal: signal ?? 'SIGKILL', coreDumped: Boolean(coreDumped) } : { code };
      });
      // Client input to the host; the client's EOF is the host's.
      channel.on('data', (chunk: Buffer) => {
        if (!remote.write(chunk)) {
          channel.pause();
          remote.once('drain', () => channel.resume());
        }
      });
      channel.once('end', () => remote.end());
      // The client went away before the command ended: closing the host's channel ends the command there too.
      const leave = (): void => remote.close();
      if (run.gone.aborted) leave();
      else run.gone.addEventListener('abort', leave, { once: true });

      const stdout = relayOutput(remote, channel, run.stdoutMasker, undefined, run.gone);
      const stderr = relayOutput(remote.stderr, channel.stderr, run.stderrMasker, undefined, run.gone);
      const closed = new Promise<void>((done) => {
        remote.once('close', () => done());
        run.gone.addEventListener('abort', () => done(), { once: true });
      });
      void Promise.all([stdout, stderr, closed]).then(([out, err]) => {
        sendExit(channel, exit);
        channel.end();
        const failed = exit === undefined || !('code' in exit) || exit.code !== 0;
        resolve({
          status: failed ? 'failure' : 'success',
          ...(failed ? { error: exit === undefined ? (run.gone.aborted ? 'the client left before the command ended' : 'the host sent no exit status') : 'code' in exit ? `exit status ${exit.code}` : `killed by ${exit.signal}` } : {}),
          bytes: out.bytes + err.bytes,
          masked: out.masked + err.masked,
          kind: 'exec',
          exit,
        });
      });
    });
  });
}

function sendExit(channel: ServerChannel, exit: HostExit): void {
  try {
    if (exit === undefined) return;
    if ('code' in exit) channel.exit(exit.code);
    // The host's free-text description is not relayed: it is output no mask has seen.
    else channel.exit(exit.signal.replace(/^SIG/, ''), exit.coreDumped, '');
  } catch {
    // A signal name this SSH library does not know: the client sees the channel end without one.
  }
}
