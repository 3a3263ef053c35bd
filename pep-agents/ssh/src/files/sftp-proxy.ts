import type { ByteStreamMaskV1, CommandOutcome, DecisionAnswer } from '@portcullis/pep-core';
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import type { FileDecisions } from './file-decisions.ts';
import { presentAttributes, type FileOpen, type FileOperation, type FileOperationName } from './file-operation.ts';
import type { FileRefusal } from './file-protocol-adapter.ts';
import { MaskedFileReader } from './masked-file-reader.ts';
import { OpenHandles, type OpenFile, type OpenHandle } from './open-handles.ts';
import type { PendingSftpRequests } from './pending-sftp-requests.ts';
import { endSftpChannel } from './sftp-channel-internals.ts';
import { resolveRemotePath, unreadablePathProblem } from './remote-path.ts';
import { SFTP_OPEN, SFTP_OPEN_CHANGING, SFTP_STATUS } from './sftp-codes.ts';
import { inputAttributes, UpstreamSftpError, type UpstreamSftp } from './upstream-sftp.ts';

// Longer reads are answered short (SFTP allows it; OpenSSH asks 32 KiB): with the bound on
// requests in flight, what one session's replies can hold in the PEP stays at 64 MiB.
const MAX_READ_BYTES = 64 * 1024;
// OpenSSH's clients keep 64 requests outstanding by default; far more is not a client waiting.
const MAX_REQUESTS_IN_FLIGHT = 1024;

/**
 * SFTP between the client and the host, decided request by request. Every request type ssh2's
 * server parses has a handler here: path operations are each one `file` decision; OPEN and
 * OPENDIR are decided (an open that can read as `read`, one that can change the file as `write`,
 * both when it does both) and their handles carry that decision, so READ, WRITE and READDIR are
 * allowed exactly as the handle was opened for; FSTAT and FSETSTAT are decided on the handle's
 * path; EXTENDED requests are refused (the PEP offers no extension). What a refused request would
 * have done never reaches the host.
 */
export class SftpProxy {
  private readonly handles = new OpenHandles();
  private ended = false;
  /** Requests taken and not yet answered. */
  private inFlight = 0;

  constructor(
    private readonly client: SFTPWrapper,
    private readonly upstream: UpstreamSftp,
    private readonly decisions: FileDecisions,
    /** The host's start directory for this session: relative paths resolve from it. */
    private readonly cwd: string,
    private readonly notify: (message: string) => void,
  ) {}

  /** Answers the client's requests (from `requests`, in order) until either side ends the session. */
  start(requests: PendingSftpRequests): void {
    const client = requests;
    client.on('OPEN', (id: number, path: string, flags: number, attrs: Attributes) => this.track(this.open(id, path, flags, attrs)));
    client.on('READ', (id: number, handle: Buffer, offset: number, length: number) => this.track(this.read(id, handle, offset, length)));
    client.on('WRITE', (id: number, handle: Buffer, offset: number, data: Buffer) => this.track(this.write(id, handle, offset, data)));
    client.on('CLOSE', (id: number, handle: Buffer) => this.track(this.close(id, handle)));
    client.on('FSTAT', (id: number, handle: Buffer) => this.track(this.onHandlePath(id, handle, 'stat', async (open) => this.attrsReply(id, visibleAttributes(open, await this.upstream.fstat(open.upstream))))));
    client.on('FSETSTAT', (id: number, handle: Buffer, attrs: Attributes) => this.track(this.fsetstat(id, handle, attrs)));
    client.on('OPENDIR', (id: number, path: string) => this.track(this.opendir(id, path)));
    client.on('READDIR', (id: number, handle: Buffer) => this.track(this.readdir(id, handle)));
    client.on('STAT', (id: number, path: string) => this.track(this.onPath(id, 'stat', path, {}, async (resolved) => this.attrsReply(id, await this.upstream.stat(resolved)))));
    client.on('LSTAT', (id: number, path: string) => this.track(this.onPath(id, 'stat', path, {}, async (resolved) => this.attrsReply(id, await this.upstream.lstat(resolved)))));
    client.on('SETSTAT', (id: number, path: string, attrs: Attributes) => {
      const set = inputAttributes(attrs);
      this.track(this.onPath(id, 'setstat', path, { attributes: presentAttributes(set) }, (resolved) => this.okAfter(id, this.upstream.setstat(resolved, set))));
    });
    client.on('REMOVE', (id: number, path: string) => this.track(this.onPath(id, 'remove', path, {}, (resolved) => this.okAfter(id, this.upstream.remove(resolved)))));
    client.on('RMDIR', (id: number, path: string) => this.track(this.onPath(id, 'rmdir', path, {}, (resolved) => this.okAfter(id, this.upstream.rmdir(resolved)))));
    client.on('MKDIR', (id: number, path: string, attrs: Attributes) => {
      const set = inputAttributes(attrs);
      this.track(this.onPath(id, 'mkdir', path, { attributes: presentAttributes(set) }, (resolved) => this.okAfter(id, this.upstream.mkdir(resolved, set))));
    });
    // An empty path asks for the start directory (OpenSSH's sftp-server reads it as ".").
    client.on('REALPATH', (id: number, path: string) => this.track(this.onPath(id, 'realpath', path === '' ? '.' : path, {}, async (resolved) => this.nameReply(id, await this.upstream.realpath(resolved)))));
    client.on('READLINK', (id: number, path: string) => this.track(this.onPath(id, 'readlink', path, {}, async (resolved) => this.nameReply(id, await this.upstream.readlink(resolved)))));
    client.on('RENAME', (id: number, from: string, to: string) => this.track(this.rename(id, from, to)));
    // ssh2 hands the link first and what it points to second, whichever order the client's implementation uses.
    client.on('SYMLINK', (id: number, linkPath: string, targetPath: string) => this.track(this.symlink(id, linkPath, targetPath)));
    client.on('EXTENDED', (id: number, name: string) => {
      this.decisions.log('sftp extension refused', { extension: String(name).slice(0, 64) });
      this.client.status(id, SFTP_STATUS.OP_UNSUPPORTED, 'portcullis: SFTP extensions are not offered');
    });
    this.client.on('close', () => this.end());
    this.client.on('end', () => this.end());
    this.client.on('error', () => this.end(1));
    requests.release();
  }

  /** Counts a request until it is answered; a client that piles up more than any client waits for is ended. */
  private track(work: Promise<void>): void {
    this.inFlight += 1;
    if (this.inFlight > MAX_REQUESTS_IN_FLIGHT) {
      this.decisions.log('sftp session ended: too many requests left unanswered', { in_flight: this.inFlight });
      this.end(1);
    }
    const settle = (): void => {
      this.inFlight -= 1;
    };
    work.then(settle, (error: unknown) => {
      settle();
      this.decisions.log('sftp request failed in the PEP', { error: error instanceof Error ? error.message : String(error) });
    });
  }

  /**
   * Closes what the client left open on the host and records it; the host session ends, and the
   * client's channel with exit status 0 when the client ended it, 1 when the host's side went.
   */
  end(status = 0): void {
    if (this.ended) return;
    this.ended = true;
    for (const open of this.handles.drain()) {
      this.upstream.close(open.upstream).catch(() => undefined);
      this.finishHandle(open, { status: 'failure', error: 'the session ended with the handle open' });
    }
    this.upstream.end();
    endSftpChannel(this.client, status);
  }

  private async open(id: number, path: string, flags: number, attrs: Attributes): Promise<void> {
    const resolved = this.resolve(id, path);
    if (resolved === undefined) return;
    if (this.handles.full) return this.client.status(id, SFTP_STATUS.FAILURE, 'portcullis: too many open handles');
    // As the host opens it: read-write with READ and WRITE, write-only with WRITE, read-only otherwise.
    const reads = (flags & SFTP_OPEN.READ) !== 0 || (flags & SFTP_OPEN.WRITE) === 0;
    const changes = (flags & SFTP_OPEN_CHANGING) !== 0;
    const set = inputAttributes(attrs);
    try {
      const read = reads ? await this.decisions.hold(this.operation('read', resolved, { alsoWrites: changes })) : undefined;
      if (read && !read.allowed) return this.refuse(id, read.refusal);
      const write = changes ? await this.decisions.hold(this.operation('write', resolved, { open: openOf(flags), attributes: presentAttributes(set) })) : undefined;
      if (write && !write.allowed) return this.refuse(id, write.refusal);
      const readHeld = read?.held;
      const writeHeld = write?.held;
      let upstreamHandle: Buffer;
      try {
        upstreamHandle = await this.upstream.open(resolved, flags, set);
      } catch (error) {
        const failure = UpstreamSftpError.from(error);
        for (const held of [readHeld, writeHeld]) if (held) this.decisions.finish(held, { status: 'failure', error: failure.message });
        return this.client.status(id, failure.status, failure.message);
      }
      if (this.ended) {
        // Opened on the host (a truncating open already truncated): on the record, though the client went.
        this.upstream.close(upstreamHandle).catch(() => undefined);
        for (const held of [readHeld, writeHeld]) if (held) this.decisions.finish(held, { status: 'failure', error: 'the session ended before the handle was handed over' });
        return;
      }
      const masker = readHeld ? this.decisions.masker(readHeld) : undefined;
      const open: OpenFile = {
        kind: 'file',
        upstream: upstreamHandle,
        path: resolved,
        ...(readHeld ? { read: readHeld } : {}),
        ...(masker ? { maskedReader: new MaskedFileReader(this.upstream, upstreamHandle, masker) } : {}),
        ...(writeHeld ? { write: writeHeld } : {}),
        bytesRead: 0,
        bytesWritten: 0,
      };
      this.client.handle(id, this.handles.add(open));
    } catch (error) {
      this.internalFailure(id, error);
    }
  }

  private async read(id: number, wire: Buffer, offset: number, length: number): Promise<void> {
    const open = this.fileHandle(id, wire);
    if (!open) return;
    if (!open.read) return this.client.status(id, SFTP_STATUS.PERMISSION_DENIED, 'portcullis: the handle was not opened for reading');
    const expired = this.decisions.expired(open.read);
    if (expired) return this.refuse(id, expired);
    const wanted = Math.min(length, MAX_READ_BYTES);
    try {
      const data = open.maskedReader ? await open.maskedReader.read(offset, wanted) : await this.upstream.read(open.upstream, offset, wanted);
      if (data.length === 0) return this.client.status(id, SFTP_STATUS.EOF);
      open.bytesRead += data.length;
      this.client.data(id, data);
    } catch (error) {
      this.upstreamFailure(id, error);
    }
  }

  private async write(id: number, wire: Buffer, offset: number, data: Buffer): Promise<void> {
    const open = this.fileHandle(id, wire);
    if (!open) return;
    if (!open.write) return this.client.status(id, SFTP_STATUS.PERMISSION_DENIED, 'portcullis: the handle was not opened for writing');
    const expired = this.decisions.expired(open.write);
    if (expired) return this.refuse(id, expired);
    try {
      // Sent to the host before anything awaits, so writes keep the order they came in.
      await this.upstream.write(open.upstream, offset, data);
      open.bytesWritten += data.length;
      this.client.status(id, SFTP_STATUS.OK);
    } catch (error) {
      this.upstreamFailure(id, error);
    }
  }

  private async close(id: number, wire: Buffer): Promise<void> {
    const open = this.handles.remove(wire);
    if (!open) return this.client.status(id, SFTP_STATUS.FAILURE, 'portcullis: no such handle');
    try {
      await this.upstream.close(open.upstream);
      this.finishHandle(open, { status: 'success' });
      this.client.status(id, SFTP_STATUS.OK);
    } catch (error) {
      const failure = UpstreamSftpError.from(error);
      this.finishHandle(open, { status: 'failure', error: failure.message });
      this.client.status(id, failure.status, failure.message);
    }
  }

  private async fsetstat(id: number, wire: Buffer, attrs: Attributes): Promise<void> {
    const set = inputAttributes(attrs);
    await this.onHandlePath(id, wire, 'setstat', (open) => this.okAfter(id, this.upstream.fsetstat(open.upstream, set)), presentAttributes(set));
  }

  private async opendir(id: number, path: string): Promise<void> {
    const resolved = this.resolve(id, path);
    if (resolved === undefined) return;
    if (this.handles.full) return this.client.status(id, SFTP_STATUS.FAILURE, 'portcullis: too many open handles');
    try {
      const list = await this.decisions.hold(this.operation('list', resolved));
      if (!list.allowed) return this.refuse(id, list.refusal);
      let upstreamHandle: Buffer;
      try {
        upstreamHandle = await this.upstream.opendir(resolved);
      } catch (error) {
        const failure = UpstreamSftpError.from(error);
        this.decisions.finish(list.held, { status: 'failure', error: failure.message });
        return this.client.status(id, failure.status, failure.message);
      }
      if (this.ended) {
        this.upstream.close(upstreamHandle).catch(() => undefined);
        this.decisions.finish(list.held, { status: 'failure', error: 'the session ended before the handle was handed over' });
        return;
      }
      this.client.handle(id, this.handles.add({ kind: 'directory', upstream: upstreamHandle, path: resolved, list: list.held, entries: 0 }));
    } catch (error) {
      this.internalFailure(id, error);
    }
  }

  private async readdir(id: number, wire: Buffer): Promise<void> {
    const open = this.handles.get(wire);
    if (!open || open.kind !== 'directory') return this.client.status(id, SFTP_STATUS.FAILURE, 'portcullis: no such directory handle');
    const expired = this.decisions.expired(open.list);
    if (expired) return this.refuse(id, expired);
    try {
      const chunk = await this.upstream.readdir(open.upstream);
      if ('end' in chunk) return this.client.status(id, SFTP_STATUS.EOF);
      open.entries += chunk.entries.length;
      this.client.name(id, chunk.entries as FileEntry[]);
    } catch (error) {
      this.upstreamFailure(id, error);
    }
  }

  private async rename(id: number, from: string, to: string): Promise<void> {
    const resolvedFrom = this.resolve(id, from);
    if (resolvedFrom === undefined) return;
    const resolvedTo = this.resolve(id, to);
    if (resolvedTo === undefined) return;
    await this.decide(id, this.operation('rename', resolvedFrom, { targetPath: resolvedTo }), () => this.okAfter(id, this.upstream.rename(resolvedFrom, resolvedTo)));
  }

  private async symlink(id: number, linkPath: string, targetPath: string): Promise<void> {
    const resolvedLink = this.resolve(id, linkPath);
    if (resolvedLink === undefined) return;
    // The target is stored as written (the host resolves it from the link's directory when followed).
    const problem = unreadablePathProblem(targetPath);
    if (problem) return this.client.status(id, SFTP_STATUS.FAILURE, `portcullis: refused ${problem}`);
    await this.decide(id, this.operation('symlink', resolvedLink, { targetPath }), () => this.okAfter(id, this.upstream.symlink(resolvedLink, targetPath)));
  }

  /** A request on one path: resolved, decided, and when allowed, `work` runs it on the host and replies. */
  private async onPath(id: number, name: FileOperationName, path: string, extra: Partial<FileOperation>, work: (resolved: string) => Promise<void>): Promise<void> {
    const resolved = this.resolve(id, path);
    if (resolved === undefined) return;
    await this.decide(id, this.operation(name, resolved, extra), () => work(resolved));
  }

  /** A request on an open handle, decided as the operation on the path it was opened for. */
  private async onHandlePath(id: number, wire: Buffer, name: FileOperationName, work: (open: OpenHandle) => Promise<void>, attributes?: FileOperation['attributes']): Promise<void> {
    const open = this.handles.get(wire);
    if (!open) return this.client.status(id, SFTP_STATUS.FAILURE, 'portcullis: no such handle');
    await this.decide(id, this.operation(name, open.path, attributes ? { attributes } : {}), () => work(open));
  }

  private async decide(id: number, operation: FileOperation, work: (answer: DecisionAnswer<ByteStreamMaskV1>) => Promise<void>): Promise<void> {
    try {
      const run = await this.decisions.run(operation, async (answer): Promise<CommandOutcome> => {
        try {
          await work(answer);
          return { status: 'success' };
        } catch (error) {
          const failure = UpstreamSftpError.from(error);
          this.client.status(id, failure.status, failure.message);
          return { status: 'failure', error: failure.message };
        }
      });
      if (!run.ran) this.refuse(id, run.refusal);
    } catch (error) {
      this.internalFailure(id, error);
    }
  }

  private operation(name: FileOperationName, path: string, extra: Partial<FileOperation> = {}): FileOperation {
    return { protocol: 'sftp', operation: name, path, cwd: this.cwd, ...extra };
  }

  private resolve(id: number, path: string): string | undefined {
    const resolved = resolveRemotePath(path, this.cwd);
    if (resolved.ok) return resolved.path;
    this.client.status(id, SFTP_STATUS.FAILURE, `portcullis: refused ${resolved.problem}`);
    return undefined;
  }

  private fileHandle(id: number, wire: Buffer): OpenFile | undefined {
    const open = this.handles.get(wire);
    if (open && open.kind === 'file') return open;
    this.client.status(id, SFTP_STATUS.FAILURE, 'portcullis: no such file handle');
    return undefined;
  }

  private refuse(id: number, refusal: FileRefusal): void {
    this.notify(refusal.message);
    this.client.status(id, refusal.status, refusal.message);
  }

  /** OK once the host has done it (its failure is thrown on to `decide`). */
  private async okAfter(id: number, done: Promise<void>): Promise<void> {
    await done;
    this.client.status(id, SFTP_STATUS.OK);
  }

  private attrsReply(id: number, attrs: Attributes): void {
    this.client.attrs(id, attrs);
  }

  private nameReply(id: number, name: string): void {
    this.client.name(id, [{ filename: name, longname: name, attrs: {} as Attributes }]);
  }

  private upstreamFailure(id: number, error: unknown): void {
    const failure = UpstreamSftpError.from(error);
    this.client.status(id, failure.status, failure.message);
  }

  private internalFailure(id: number, error: unknown): void {
    this.decisions.log('sftp request failed in the PEP', { error: error instanceof Error ? error.message : String(error) });
    this.client.status(id, SFTP_STATUS.FAILURE, 'portcullis: the request failed in the PEP; nothing was done');
  }

  private finishHandle(open: OpenHandle, outcome: CommandOutcome): void {
    if (open.kind === 'directory') {
      this.decisions.finish(open.list, { ...outcome, rows: open.entries });
      return;
    }
    if (open.read) this.decisions.finish(open.read, { ...outcome, bytes: open.bytesRead, ...(open.maskedReader ? { masked: open.maskedReader.masked } : {}) });
    if (open.write) this.decisions.finish(open.write, { ...outcome, bytes: open.bytesWritten });
  }
}

function openOf(flags: number): FileOpen {
  return {
    ...(flags & SFTP_OPEN.CREAT ? { create: true } : {}),
    ...(flags & SFTP_OPEN.TRUNC ? { truncate: true } : {}),
    ...(flags & SFTP_OPEN.APPEND ? { append: true } : {}),
    ...(flags & SFTP_OPEN.EXCL ? { exclusive: true } : {}),
  };
}

/** FSTAT of a masked file leaves its size out: the host's size is the unmasked file's, not what the client is sent. */
function visibleAttributes(open: OpenHandle, attrs: Attributes): Attributes {
  if (open.kind !== 'file' || !open.maskedReader) return attrs;
  const { size: _size, ...rest } = attrs;
  return rest as Attributes;
}
