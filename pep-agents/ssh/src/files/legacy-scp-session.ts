import type { SFTPWrapper } from 'ssh2';
import type { Duplex, Writable } from 'node:stream';
import { FileDecisions, type FileSessionDependencies } from './file-decisions.ts';
import type { LegacyScpRequest } from './legacy-scp-command.ts';
import { LegacyScpSink } from './legacy-scp-sink.ts';
import { LegacyScpSource } from './legacy-scp-source.ts';
import { ScpChannel, scpError } from './scp-channel.ts';
import { UpstreamSftp } from './upstream-sftp.ts';

/** The exec channel a legacy scp request came on (ssh2's server channel). */
export interface ScpExecChannel extends Duplex {
  readonly stderr: Writable;
}

export interface LegacyScpSessionOptions {
  readonly channel: ScpExecChannel;
  readonly request: LegacyScpRequest;
  /** Opens the `sftp` subsystem on the PEP's connection to the host: each file step is done over it. */
  readonly openUpstream: () => Promise<SFTPWrapper>;
  readonly dependencies: FileSessionDependencies;
}

/**
 * One legacy scp exchange (`scp -O`'s exec of `scp -t` or `scp -f`): the PEP speaks scp with the
 * client and does every file step on the host as a decided SFTP operation, so no scp runs there.
 * Resolves to the exit status scp would have had (0, or 1 when anything was refused or failed);
 * the caller sends it and closes the channel.
 */
export async function serveLegacyScp(options: LegacyScpSessionOptions): Promise<number> {
  const { channel, dependencies } = options;
  const scp = new ScpChannel(channel);
  let upstream: UpstreamSftp;
  let cwd: string;
  try {
    upstream = new UpstreamSftp(await options.openUpstream());
  } catch (error) {
    dependencies.log?.('legacy scp refused: the host would not open an sftp subsystem', { error: error instanceof Error ? error.message : String(error) });
    await scp.write(scpError('portcullis: the host cannot be reached for file transfers'));
    return 1;
  }
  try {
    cwd = await upstream.realpath('.');
    const notify = (message: string) => channel.stderr.write(`${message}\n`);
    const gone = new AbortController();
    channel.once('close', () => gone.abort());
    const decisions = new FileDecisions(dependencies, notify, gone.signal);
    const side = options.request.mode === 'sink' ? new LegacyScpSink(scp, upstream, decisions, cwd, options.request) : new LegacyScpSource(scp, upstream, decisions, cwd, options.request);
    return await side.run();
  } catch (error) {
    dependencies.log?.('legacy scp failed in the PEP', { error: error instanceof Error ? error.message : String(error) });
    if (!scp.gone) await scp.write(scpError('portcullis: the transfer failed in the PEP'));
    return 1;
  } finally {
    upstream.end();
  }
}

/** A server-mode scp the PEP will not model: scp's error line for the client, exit status 1. */
export function refuseLegacyScp(channel: ScpExecChannel, problem: string): number {
  const message = `portcullis: refused: ${problem}`;
  channel.stderr.write(`${message}\n`);
  channel.write(scpError(message));
  return 1;
}
