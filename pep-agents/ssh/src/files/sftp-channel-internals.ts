import type { SFTPWrapper } from 'ssh2';

/**
 * What ssh2's server-side SFTP channel can do that its public API leaves out: a line on the
 * channel's stderr, and an exit status before it closes. OpenSSH's scp (SFTP mode) fails a
 * transfer whose channel closed without an exit status, as sshd always sends sftp-server's.
 */
interface SftpChannelInternals {
  readonly outgoing?: { id: number; window: number; packetSize: number; state: string };
  readonly _protocol?: {
    channelExtData(channel: number, data: Buffer, type: number): void;
    exitStatus(channel: number, status: number): void;
  };
}

const STDERR = 1;

/**
 * A line on the SFTP channel's stderr (OpenSSH's sftp and scp print it): how a refusal or an
 * approval wait is told beyond the status code most clients show alone. Sent only when the
 * channel's window has room, so the window count stays right; a notice that does not fit is
 * dropped (the request's status still says it).
 */
export function sftpNotice(sftp: SFTPWrapper): (message: string) => void {
  const channel = sftp as unknown as SftpChannelInternals;
  return (message) => {
    const outgoing = channel.outgoing;
    const protocol = channel._protocol;
    if (!outgoing || !protocol || outgoing.state !== 'open') return;
    const data = Buffer.from(`${message}\n`);
    if (data.length > outgoing.window || data.length > outgoing.packetSize) return;
    outgoing.window -= data.length;
    protocol.channelExtData(outgoing.id, data, STDERR);
  };
}

/** Sends the session's exit status and closes the channel (once). */
export function endSftpChannel(sftp: SFTPWrapper, status: number): void {
  const channel = sftp as unknown as SftpChannelInternals;
  const outgoing = channel.outgoing;
  if (outgoing && channel._protocol && (outgoing.state === 'open' || outgoing.state === 'eof')) channel._protocol.exitStatus(outgoing.id, status);
  sftp.end();
}
