import type { ByteStreamMasker } from '@portcullis/pep-core';
import type { Stats } from 'ssh2';
import type { FileDecisions } from './file-decisions.ts';
import type { FileOperation, FileOperationName } from './file-operation.ts';
import type { LegacyScpRequest } from './legacy-scp-command.ts';
import { HOST_READ_BYTES, HostFileChunks } from './host-file-chunks.ts';
import { joinPath } from './legacy-scp-sink.ts';
import { resolveRemotePath } from './remote-path.ts';
import { SCP_OK, scpError, type ScpChannel } from './scp-channel.ts';
import { SFTP_OPEN } from './sftp-codes.ts';
import { UpstreamSftpError, type UpstreamSftp } from './upstream-sftp.ts';

const CHUNK_BYTES = 64 * 1024;
// scp announces a file's size before its contents; a masked file is masked whole first, up to this.
const MAX_MASKED_FILE_BYTES = 64 * 1024 * 1024;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** The client ended the exchange (its fatal answer, or it went away). */
class ScpEnded extends Error {}

/**
 * Legacy scp's sending side (`scp -f`), spoken by the PEP: each path is a decided `stat` and then
 * a decided `read` (a directory with -r: `list`), read from the host over SFTP and sent in scp's
 * framing. When policy masks file contents, the file is masked whole before its size is
 * announced (scp states sizes up front); such files are bounded in size.
 */
export class LegacyScpSource {
  private errors = 0;

  constructor(
    private readonly channel: ScpChannel,
    private readonly upstream: UpstreamSftp,
    private readonly decisions: FileDecisions,
    private readonly cwd: string,
    private readonly request: LegacyScpRequest,
  ) {}

  async run(): Promise<number> {
    try {
      // The receiving client starts the exchange.
      if ((await this.channel.readByte()) !== 0) return 1;
      for (const path of this.request.paths) {
        const resolved = resolveRemotePath(path, this.cwd);
        if (resolved.ok) await this.send(resolved.path);
        else await this.fail(`portcullis: refused ${resolved.problem}`);
      }
    } catch (error) {
      if (error instanceof ScpEnded) return 1;
      throw error;
    }
    return this.errors === 0 ? 0 : 1;
  }

  private async send(path: string): Promise<void> {
    // scp's control lines end at a line break: such a name would be read as more than a name.
    if (/[\n\r]/.test(baseName(path))) return this.fail(`${JSON.stringify(path)}: a name with a line break cannot be sent over scp`);
    let stats: Stats | undefined;
    const problem = await this.decided('stat', path, async () => {
      stats = await this.upstream.stat(path);
    });
    if (problem !== undefined || !stats) return this.fail(`${path}: ${problem ?? 'No such file'}`);
    const type = stats.mode & S_IFMT;
    if (type === S_IFDIR) {
      if (!this.request.recursive) return this.fail(`${path}: not a regular file`);
      return this.directory(path, stats);
    }
    if (type !== S_IFREG) return this.fail(`${path}: not a regular file`);
    return this.file(path, stats);
  }

  private async file(path: string, stats: Stats): Promise<void> {
    const read = await this.decisions.hold(this.operation('read', path));
    if (!read.allowed) return this.fail(`${path}: ${read.refusal.message}`);
    let handle: Buffer;
    try {
      handle = await this.upstream.open(path, SFTP_OPEN.READ, {});
    } catch (error) {
      const failure = UpstreamSftpError.from(error);
      this.decisions.finish(read.held, { status: 'failure', error: failure.message });
      return this.fail(`${path}: ${failure.message}`);
    }
    let sent = 0;
    let masker: ByteStreamMasker | undefined;
    try {
      masker = this.decisions.masker(read.held);
      const masked = masker ? await this.readMasked(handle, masker) : undefined;
      const size = masked ? masked.length : stats.size;
      if (this.request.preserveTimes && !(await this.announce(`T${stats.mtime} 0 ${stats.atime} 0\n`))) throw new Skipped('the client refused the times');
      if (!(await this.announce(`C${modeText(stats.mode)} ${size} ${baseName(path)}\n`))) throw new Skipped('the client refused the file');
      const readError = masked ? await this.sendWhole(masked) : await this.sendFromHost(handle, size);
      sent = size;
      await this.channel.write(readError === undefined ? SCP_OK : scpError(`${path}: ${readError}`));
      if (readError !== undefined) throw new Skipped(readError);
      if (!(await this.response())) throw new Skipped('the client could not write the file');
      this.decisions.finish(read.held, { status: 'success', bytes: sent, ...(masker ? { masked: masker.masked } : {}) });
    } catch (error) {
      const message = error instanceof Skipped ? error.message : UpstreamSftpError.from(error).message;
      this.decisions.finish(read.held, { status: 'failure', error: message, bytes: sent, ...(masker ? { masked: masker.masked } : {}) });
      if (error instanceof ScpEnded) throw error;
      if (!(error instanceof Skipped)) await this.fail(`${path}: ${message}`);
      else this.errors += 1;
    } finally {
      await this.upstream.close(handle).catch(() => undefined);
    }
  }

  private async directory(path: string, stats: Stats): Promise<void> {
    const list = await this.decisions.hold(this.operation('list', path));
    if (!list.allowed) return this.fail(`${path}: ${list.refusal.message}`);
    const names: string[] = [];
    try {
      const handle = await this.upstream.opendir(path);
      try {
        for (;;) {
          const chunk = await this.upstream.readdir(handle);
          if ('end' in chunk) break;
          for (const entry of chunk.entries) if (entry.filename !== '.' && entry.filename !== '..') names.push(entry.filename);
        }
      } finally {
        await this.upstream.close(handle).catch(() => undefined);
      }
    } catch (error) {
      const failure = UpstreamSftpError.from(error);
      this.decisions.finish(list.held, { status: 'failure', error: failure.message });
      return this.fail(`${path}: ${failure.message}`);
    }
    this.decisions.finish(list.held, { status: 'success', rows: names.length });
    if (this.request.preserveTimes && !(await this.announce(`T${stats.mtime} 0 ${stats.atime} 0\n`))) return;
    if (!(await this.announce(`D${modeText(stats.mode)} 0 ${baseName(path)}\n`))) return;
    for (const name of names) await this.send(joinPath(path, name));
    await this.announce('E\n');
  }

  /** The whole file read through the masker (bounded: scp needs its size before its contents). */
  private async readMasked(handle: Buffer, masker: ByteStreamMasker): Promise<Buffer> {
    const file = new HostFileChunks(this.upstream, handle);
    const parts: Buffer[] = [];
    let read = 0;
    for (let data = await file.next(); data.length > 0; data = await file.next()) {
      read += data.length;
      if (read > MAX_MASKED_FILE_BYTES) throw new Skipped(`portcullis: a masked file over ${MAX_MASKED_FILE_BYTES / 1024 / 1024} MiB cannot be sent over legacy scp; use sftp`);
      parts.push(masker.push(data));
    }
    parts.push(masker.end());
    return Buffer.concat(parts);
  }

  private async sendWhole(bytes: Buffer): Promise<string | undefined> {
    for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) await this.channel.write(bytes.subarray(offset, offset + CHUNK_BYTES));
    return undefined;
  }

  /** Exactly `size` bytes from the host's file (zeros after a short file, as scp does), and what went wrong. */
  private async sendFromHost(handle: Buffer, size: number): Promise<string | undefined> {
    const file = new HostFileChunks(this.upstream, handle);
    let sent = 0;
    let problem: string | undefined;
    while (sent < size) {
      let data: Buffer = Buffer.alloc(0);
      if (problem === undefined) {
        try {
          data = await file.next();
          if (data.length === 0) problem = 'the file shrank while it was sent';
        } catch (error) {
          problem = UpstreamSftpError.from(error).message;
        }
      }
      // What the announced size still holds: the file's bytes (a grown file is cut), or zeros.
      const part = data.length > 0 ? data.subarray(0, size - sent) : Buffer.alloc(Math.min(HOST_READ_BYTES, size - sent));
      sent += part.length;
      await this.channel.write(part);
    }
    return problem;
  }

  /** Sends a control line; whether the client took it. */
  private async announce(line: string): Promise<boolean> {
    await this.channel.write(line);
    return this.response();
  }

  /** The client's answer: true to go on, false for an error it reported; its fatal answer ends the exchange. */
  private async response(): Promise<boolean> {
    const byte = await this.channel.readByte();
    if (byte === 0) return true;
    if (byte === undefined) throw new ScpEnded('the client went away');
    await this.channel.readLine();
    if (byte === 1) {
      this.errors += 1;
      return false;
    }
    throw new ScpEnded('the client ended the transfer');
  }

  /** One decided operation run on the host; its refusal or failure as a message, or undefined. */
  private async decided(name: FileOperationName, path: string, work: () => Promise<void>): Promise<string | undefined> {
    let failure: string | undefined;
    const run = await this.decisions.run(this.operation(name, path), async () => {
      try {
        await work();
        return { status: 'success' };
      } catch (error) {
        failure = UpstreamSftpError.from(error).message;
        return { status: 'failure', error: failure };
      }
    });
    return run.ran ? failure : run.refusal.message;
  }

  private async fail(message: string): Promise<void> {
    this.errors += 1;
    await this.channel.write(scpError(message));
  }

  private operation(name: FileOperationName, path: string): FileOperation {
    return { protocol: 'scp', operation: name, path, cwd: this.cwd };
  }
}

/** A file that was not sent whole, for a reason the client was already told (or told itself). */
class Skipped extends Error {}

function modeText(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`.slice(-4);
}

function baseName(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name === '' ? '/' : name;
}

