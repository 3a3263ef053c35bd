import type { SFTPWrapper } from 'ssh2';
import { FileDecisions, type FileSessionDependencies } from './file-decisions.ts';
import { PendingSftpRequests } from './pending-sftp-requests.ts';
import { SftpProxy } from './sftp-proxy.ts';
import { endSftpChannel, sftpNotice } from './sftp-channel-internals.ts';
import { UpstreamSftp } from './upstream-sftp.ts';

export interface SftpSessionOptions {
  /** The client's sftp channel, accepted as soon as it was asked for (its first requests do not wait). */
  readonly client: SFTPWrapper;
  /** Whether policy lets this session open the subsystem (`connect`); nothing is served before it says so. */
  readonly opened: Promise<boolean>;
  /** Opens the `sftp` subsystem on the PEP's connection to the host. */
  readonly openUpstream: () => Promise<SFTPWrapper>;
  readonly dependencies: FileSessionDependencies;
}

/**
 * One SFTP session (`sftp`, and `scp` since OpenSSH 9). The client's requests are held from the
 * start; once the session is allowed, the host's SFTP subsystem opened and its start directory
 * learnt, every request is decided (`SftpProxy`). A refused session, or a host that cannot be
 * reached, closes the channel with nothing served. Resolves when the session is over.
 */
export async function serveSftp(options: SftpSessionOptions): Promise<void> {
  const { client, dependencies } = options;
  const requests = new PendingSftpRequests(client);
  const gone = new AbortController();
  client.once('close', () => gone.abort());
  const refuse = (message: string, error?: unknown): void => {
    dependencies.log?.(message, error === undefined ? undefined : { error: error instanceof Error ? error.message : String(error) });
    endSftpChannel(client, 1);
  };
  if (!(await options.opened.catch(() => false))) return refuse('sftp session closed: policy did not allow the subsystem');
  if (gone.signal.aborted) return;
  let upstream: UpstreamSftp;
  try {
    upstream = new UpstreamSftp(await options.openUpstream());
  } catch (error) {
    return refuse('sftp session closed: the host would not open its sftp subsystem', error);
  }
  let cwd: string;
  try {
    // The PEP's own question, not the client's: where relative paths start on the host.
    cwd = await upstream.realpath('.');
  } catch (error) {
    upstream.end();
    return refuse('sftp session closed: the host did not name its start directory', error);
  }
  const notify = sftpNotice(client);
  const proxy = new SftpProxy(client, upstream, new FileDecisions(dependencies, notify, gone.signal), cwd, notify);
  const over = new Promise<number>((resolve) => {
    client.once('close', () => resolve(0));
    upstream.onClose(() => resolve(1));
  });
  if (gone.signal.aborted) proxy.end();
  else proxy.start(requests);
  proxy.end(await over);
}
