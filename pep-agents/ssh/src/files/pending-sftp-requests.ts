import { EventEmitter } from 'node:events';
import type { SFTPWrapper } from 'ssh2';

/** Every request ssh2's server-side SFTP parses and emits (anything else ends the channel there). */
export const SFTP_REQUEST_EVENTS = [
  'OPEN',
  'READ',
  'WRITE',
  'FSTAT',
  'FSETSTAT',
  'CLOSE',
  'OPENDIR',
  'READDIR',
  'LSTAT',
  'STAT',
  'REMOVE',
  'RMDIR',
  'REALPATH',
  'READLINK',
  'SETSTAT',
  'MKDIR',
  'RENAME',
  'SYMLINK',
  'EXTENDED',
] as const;

// OpenSSH's sftp sends a handful before its first answer; a flood is not a client waiting.
const MAX_HELD_REQUESTS = 256;

/**
 * The client's SFTP requests from the moment its channel is accepted. OpenSSH's sftp sends its
 * first requests without waiting for the subsystem's reply, and ssh2 answers a request nobody
 * listens for as unsupported, so the channel is accepted at once and its requests held here, in
 * order, until the session is decided and the host's side is ready; then they are handed on.
 */
export class PendingSftpRequests extends EventEmitter {
  private held: Array<readonly [string, unknown[]]> | undefined = [];

  constructor(client: SFTPWrapper) {
    super();
    for (const name of SFTP_REQUEST_EVENTS) {
      client.on(name, (...args: unknown[]) => {
        if (!this.held) this.emit(name, ...args);
        else if (this.held.length < MAX_HELD_REQUESTS) this.held.push([name, args]);
        // A client that will not wait for its session to open is not served at all.
        else client.end();
      });
    }
  }

  /** Hands on what was held, then every later request as it comes (listeners are attached by now). */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const [name, args] of held) this.emit(name, ...args);
  }
}
