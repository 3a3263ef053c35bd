import type { Attributes, FileEntry, InputAttributes, SFTPWrapper, Stats } from 'ssh2';
import { SFTP_STATUS, type SftpStatusCode } from './sftp-codes.ts';

/** The host's SFTP answer to a request that did not succeed, passed on to the client as it came. */
export class UpstreamSftpError extends Error {
  constructor(
    readonly status: SftpStatusCode,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamSftpError';
  }

  /** The host's status, or FAILURE for a channel or connection fault. */
  static from(error: unknown): UpstreamSftpError {
    if (error instanceof UpstreamSftpError) return error;
    const code = (error as { code?: unknown } | undefined)?.code;
    const message = error instanceof Error ? error.message : String(error);
    const known = Object.values(SFTP_STATUS) as number[];
    return new UpstreamSftpError(typeof code === 'number' && known.includes(code) ? (code as SftpStatusCode) : SFTP_STATUS.FAILURE, message);
  }
}

/** One directory listing step: entries, or the end of the directory. */
export type DirectoryChunk = { readonly entries: readonly FileEntry[] } | { readonly end: true };

/**
 * The PEP's SFTP session with the host, as promises: every request the file side sends there
 * goes through here, so each has its one place (and a host error is an `UpstreamSftpError`).
 */
export class UpstreamSftp {
  constructor(private readonly sftp: SFTPWrapper) {}

  open(path: string, flags: number, attributes: InputAttributes): Promise<Buffer> {
    return this.call<Buffer>((done) => this.sftp.open(path, flags, attributes, done));
  }

  /** Up to `length` bytes at `position`; an empty buffer at the end of the file. */
  read(handle: Buffer, position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    return this.call<Buffer>((done) => this.sftp.read(handle, buffer, 0, length, position, (error, bytesRead) => done(error, buffer.subarray(0, bytesRead ?? 0))));
  }

  write(handle: Buffer, position: number, data: Buffer): Promise<void> {
    return this.call<void>((done) => this.sftp.write(handle, data, 0, data.length, position, done));
  }

  close(handle: Buffer): Promise<void> {
    return this.call<void>((done) => this.sftp.close(handle, done));
  }

  fstat(handle: Buffer): Promise<Stats> {
    return this.call<Stats>((done) => this.sftp.fstat(handle, done));
  }

  fsetstat(handle: Buffer, attributes: InputAttributes): Promise<void> {
    return this.call<void>((done) => this.sftp.fsetstat(handle, attributes, done));
  }

  opendir(path: string): Promise<Buffer> {
    return this.call<Buffer>((done) => this.sftp.opendir(path, done));
  }

  /** The next entries of an open directory, `.` and `..` included as the host sends them. */
  readdir(handle: Buffer): Promise<DirectoryChunk> {
    return new Promise((resolve, reject) => {
      // `full` keeps the listing as the host sent it (no filtering of `.` and `..`).
      const readdir = this.sftp.readdir as unknown as (where: Buffer, options: { full: boolean }, callback: (error: Error | undefined, list: FileEntry[]) => void) => void;
      readdir.call(this.sftp, handle, { full: true }, (error, list) => {
        if (error && (error as { code?: unknown }).code === SFTP_STATUS.EOF) resolve({ end: true });
        else if (error) reject(UpstreamSftpError.from(error));
        else resolve({ entries: list });
      });
    });
  }

  stat(path: string): Promise<Stats> {
    return this.call<Stats>((done) => this.sftp.stat(path, done));
  }

  lstat(path: string): Promise<Stats> {
    return this.call<Stats>((done) => this.sftp.lstat(path, done));
  }

  setstat(path: string, attributes: InputAttributes): Promise<void> {
    return this.call<void>((done) => this.sftp.setstat(path, attributes, done));
  }

  remove(path: string): Promise<void> {
    return this.call<void>((done) => this.sftp.unlink(path, done));
  }

  rmdir(path: string): Promise<void> {
    return this.call<void>((done) => this.sftp.rmdir(path, done));
  }

  mkdir(path: string, attributes: InputAttributes): Promise<void> {
    return this.call<void>((done) => this.sftp.mkdir(path, attributes, done));
  }

  realpath(path: string): Promise<string> {
    return this.call<string>((done) => this.sftp.realpath(path, done));
  }

  readlink(path: string): Promise<string> {
    return this.call<string>((done) => this.sftp.readlink(path, done));
  }

  rename(from: string, to: string): Promise<void> {
    return this.call<void>((done) => this.sftp.rename(from, to, done));
  }

  symlink(linkPath: string, targetPath: string): Promise<void> {
    // ssh2 orders the arguments as OpenSSH's server expects them on the wire.
    return this.call<void>((done) => this.sftp.symlink(targetPath, linkPath, done));
  }

  end(): void {
    this.sftp.end();
  }

  /** Called once when the host's side of the SFTP channel is gone. */
  onClose(listener: () => void): void {
    this.sftp.once('close', listener);
  }

  private call<T>(start: (done: (error: Error | undefined | null, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        start((error, value) => (error ? reject(UpstreamSftpError.from(error)) : resolve(value as T)));
      } catch (error) {
        reject(UpstreamSftpError.from(error));
      }
    });
  }
}

/** Attributes as the host is sent them (only those the client set). */
export function inputAttributes(attributes: Partial<Attributes> | undefined): InputAttributes {
  const input: InputAttributes = {};
  if (!attributes) return input;
  if (typeof attributes.mode === 'number') input.mode = attributes.mode;
  if (typeof attributes.uid === 'number' && typeof attributes.gid === 'number') {
    input.uid = attributes.uid;
    input.gid = attributes.gid;
  }
  if (typeof attributes.size === 'number') input.size = attributes.size;
  if (typeof attributes.atime === 'number' && typeof attributes.mtime === 'number') {
    input.atime = attributes.atime;
    input.mtime = attributes.mtime;
  }
  return input;
}
