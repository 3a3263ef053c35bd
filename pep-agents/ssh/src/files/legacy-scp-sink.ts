import type { FileDecisions } from './file-decisions.ts';
import type { FileAttributes, FileOperation, FileOperationName } from './file-operation.ts';
import type { LegacyScpRequest } from './legacy-scp-command.ts';
import { resolveRemotePath } from './remote-path.ts';
import { SCP_OK, scpError, type ScpChannel } from './scp-channel.ts';
import { SFTP_OPEN, SFTP_STATUS } from './sftp-codes.ts';
import { UpstreamSftpError, type UpstreamSftp } from './upstream-sftp.ts';

const CHUNK_BYTES = 64 * 1024;
// Writes to the host in flight at once while a file arrives (each waits for the host's status).
const WRITES_IN_FLIGHT = 16;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/** A transfer that cannot go on: the client is told (scp's fatal answer) and the exchange ends. */
class ScpFatal extends Error {}

interface Times {
  readonly atime: number;
  readonly mtime: number;
}

/**
 * Legacy scp's receiving side (`scp -t`), spoken by the PEP: each file the client sends is a
 * decided `write` (its directories `stat` and `mkdir`, its `-p` times and mode a `setstat`), done
 * on the host over SFTP. A refused file is answered with scp's error line before its contents
 * are sent, so the client skips it and nothing of it reaches the host.
 */
export class LegacyScpSink {
  private errors = 0;

  constructor(
    private readonly channel: ScpChannel,
    private readonly upstream: UpstreamSftp,
    private readonly decisions: FileDecisions,
    private readonly cwd: string,
    private readonly request: LegacyScpRequest,
  ) {}

  /** Runs the exchange; resolves to scp's exit status (0, or 1 when anything failed). */
  async run(): Promise<number> {
    try {
      const target = this.resolve(this.request.paths[0]!);
      const isDirectory = await this.isDirectory(target);
      if (this.request.targetIsDirectory && !isDirectory) throw new ScpFatal(`${target}: Not a directory`);
      await this.channel.write(SCP_OK);
      await this.receive(target, isDirectory, 0);
    } catch (error) {
      if (error instanceof ScpFatal) {
        await this.channel.write(scpError(error.message));
        return 1;
      }
      throw error;
    }
    return this.errors === 0 ? 0 : 1;
  }

  private async receive(target: string, targetIsDirectory: boolean, depth: number): Promise<void> {
    let times: Times | undefined;
    for (;;) {
      const line = await this.channel.readLine();
      if (line === undefined) return;
      const kind = line[0];
      if (kind === '\x01' || kind === '\x02') {
        // The client's own trouble (a file it could not read): counted, and fatal when it says so.
        this.errors += 1;
        if (kind === '\x02') return;
        continue;
      }
      if (kind === 'E') {
        if (depth === 0) throw new ScpFatal('protocol error: unexpected end of directory');
        await this.channel.write(SCP_OK);
        return;
      }
      if (kind === 'T') {
        const match = /^T(\d+) 0 (\d+) 0$/.exec(line);
        if (!match) throw new ScpFatal('protocol error: bad times');
        times = { mtime: Number(match[1]), atime: Number(match[2]) };
        await this.channel.write(SCP_OK);
        continue;
      }
      const match = /^([CD])([0-7]{4}) (\d+) (.+)$/.exec(line);
      if (!match) throw new ScpFatal('protocol error: unexpected line');
      const [, type, modeText, sizeText, name] = match as unknown as [string, 'C' | 'D', string, string, string];
      if (name === '.' || name === '..' || name.includes('/')) throw new ScpFatal(`error: unexpected filename: ${name}`);
      const path = targetIsDirectory ? joinPath(target, name) : target;
      const mode = Number.parseInt(modeText, 8);
      const fileTimes = times;
      times = undefined;
      if (type === 'D') await this.directory(path, mode, fileTimes, depth);
      else await this.file(path, mode, Number(sizeText), fileTimes);
    }
  }

  private async directory(path: string, mode: number, times: Times | undefined, depth: number): Promise<void> {
    if (!this.request.recursive) throw new ScpFatal('received directory without -r');
    const problem = await this.attempt(async () => {
      const exists = await this.existingKind(path);
      if (exists === 'other') throw new UpstreamSftpError(SFTP_STATUS.FAILURE, 'Not a directory');
      if (exists === undefined) await this.decided('mkdir', path, { attributes: { mode: mode | 0o700 } }, () => this.upstream.mkdir(path, { mode: mode | 0o700 }));
    });
    if (problem) return this.fail(`${path}: ${problem}`);
    await this.channel.write(SCP_OK);
    await this.receive(path, true, depth + 1);
    if (this.request.preserveTimes && times) {
      const set = await this.attempt(() => this.decided('setstat', path, { attributes: { mode, ...times } }, () => this.upstream.setstat(path, { mode, ...times })));
      if (set) this.errors += 1;
    }
  }

  private async file(path: string, mode: number, size: number, times: Times | undefined): Promise<void> {
    const write = await this.decisions.hold(this.operation('write', path, { open: { create: true, truncate: true }, attributes: { mode } }));
    if (!write.allowed) return this.fail(`${path}: ${write.refusal.message}`);
    let handle: Buffer;
    try {
      handle = await this.upstream.open(path, SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.TRUNC, { mode });
    } catch (error) {
      const failure = UpstreamSftpError.from(error);
      this.decisions.finish(write.held, { status: 'failure', error: failure.message });
      return this.fail(`${path}: ${failure.message}`);
    }
    await this.channel.write(SCP_OK);
    let written = 0;
    let writeError: string | undefined;
    const inFlight: Promise<void>[] = [];
    while (written < size) {
      const chunk = await this.channel.read(Math.min(CHUNK_BYTES, size - written));
      if (chunk.length === 0) break;
      const offset = written;
      written += chunk.length;
      if (writeError !== undefined) continue;
      inFlight.push(
        this.upstream.write(handle, offset, chunk).catch((error: unknown) => {
          writeError ??= UpstreamSftpError.from(error).message;
        }),
      );
      if (inFlight.length >= WRITES_IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
    // After the contents, the client says whether it read its file whole.
    const clientStatus = written < size ? undefined : await this.channel.readByte();
    if (clientStatus !== 0) {
      if (clientStatus !== undefined) await this.channel.readLine();
      writeError ??= written < size ? 'the client went away mid-file' : 'the client could not read its file';
    }
    await this.upstream.close(handle).catch((error: unknown) => {
      writeError ??= UpstreamSftpError.from(error).message;
    });
    this.decisions.finish(write.held, writeError === undefined ? { status: 'success', bytes: written } : { status: 'failure', error: writeError, bytes: written });
    if (writeError === undefined && this.request.preserveTimes && times) {
      const problem = await this.attempt(() => this.decided('setstat', path, { attributes: { mode, ...times } }, () => this.upstream.setstat(path, { mode, ...times })));
      if (problem) writeError = problem;
    }
    if (writeError !== undefined) return this.fail(`${path}: ${writeError}`);
    await this.channel.write(SCP_OK);
  }

  private async isDirectory(path: string): Promise<boolean> {
    try {
      return (await this.existingKind(path)) === 'directory';
    } catch (error) {
      throw new ScpFatal(`${path}: ${UpstreamSftpError.from(error).message}`);
    }
  }

  /** What is at `path` on the host (a decided `stat`), or undefined when nothing is. */
  private async existingKind(path: string): Promise<'directory' | 'other' | undefined> {
    let kind: 'directory' | 'other' | undefined;
    await this.decided('stat', path, {}, async () => {
      try {
        const stats = await this.upstream.stat(path);
        kind = (stats.mode & S_IFMT) === S_IFDIR ? 'directory' : 'other';
      } catch (error) {
        if (UpstreamSftpError.from(error).status !== SFTP_STATUS.NO_SUCH_FILE) throw error;
      }
    });
    return kind;
  }

  /** One decided operation run on the host; a refusal or host error is thrown as its message. */
  private async decided(name: FileOperationName, path: string, extra: { attributes?: FileAttributes }, work: () => Promise<void>): Promise<void> {
    let failure: UpstreamSftpError | undefined;
    const run = await this.decisions.run(this.operation(name, path, extra), async () => {
      try {
        await work();
        return { status: 'success' };
      } catch (error) {
        failure = UpstreamSftpError.from(error);
        return { status: 'failure', error: failure.message };
      }
    });
    if (!run.ran) throw new UpstreamSftpError(SFTP_STATUS.PERMISSION_DENIED, run.refusal.message);
    if (failure) throw failure;
  }

  /** Runs `work`; its failure's message, or undefined when it succeeded. */
  private async attempt(work: () => Promise<void>): Promise<string | undefined> {
    try {
      await work();
      return undefined;
    } catch (error) {
      return UpstreamSftpError.from(error).message;
    }
  }

  private async fail(message: string): Promise<void> {
    this.errors += 1;
    await this.channel.write(scpError(message));
  }

  private operation(name: FileOperationName, path: string, extra: Partial<FileOperation> = {}): FileOperation {
    return { protocol: 'scp', operation: name, path, cwd: this.cwd, ...extra };
  }

  private resolve(path: string): string {
    const resolved = resolveRemotePath(path, this.cwd);
    if (!resolved.ok) throw new ScpFatal(`portcullis: refused ${resolved.problem}`);
    return resolved.path;
  }
}

export function joinPath(directory: string, name: string): string {
  return directory.endsWith('/') ? `${directory}${name}` : `${directory}/${name}`;
}
