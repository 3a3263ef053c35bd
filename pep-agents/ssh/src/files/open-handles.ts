import type { HeldDecision } from './file-decisions.ts';
import type { MaskedFileReader } from './masked-file-reader.ts';

/** A file the client opened through the PEP: the host's handle, and the decisions it was opened under. */
export interface OpenFile {
  readonly kind: 'file';
  readonly upstream: Buffer;
  readonly path: string;
  /** Set when the open flags read: the read decision, and its masked view when masks apply. */
  readonly read?: HeldDecision;
  readonly maskedReader?: MaskedFileReader;
  /** Set when the open flags write, create, truncate or append. */
  readonly write?: HeldDecision;
  bytesRead: number;
  bytesWritten: number;
}

export interface OpenDirectory {
  readonly kind: 'directory';
  readonly upstream: Buffer;
  readonly path: string;
  readonly list: HeldDecision;
  entries: number;
}

export type OpenHandle = OpenFile | OpenDirectory;

// OpenSSH's sftp-server allows 512 handles per session; the PEP keeps the same bound.
const MAX_OPEN_HANDLES = 512;

/**
 * The handles this PEP gave the client, each standing for the host's handle and the path and
 * decisions it was opened under. The client never sees the host's handles: a READ or WRITE can
 * only name a handle the PEP opened, for what it was opened for.
 */
export class OpenHandles {
  private readonly byId = new Map<number, OpenHandle>();
  private nextId = 1;

  get size(): number {
    return this.byId.size;
  }

  get full(): boolean {
    return this.byId.size >= MAX_OPEN_HANDLES;
  }

  add(handle: OpenHandle): Buffer {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    this.byId.set(id, handle);
    const wire = Buffer.alloc(4);
    wire.writeUInt32BE(id);
    return wire;
  }

  get(wire: Buffer): OpenHandle | undefined {
    return wire.length === 4 ? this.byId.get(wire.readUInt32BE()) : undefined;
  }

  remove(wire: Buffer): OpenHandle | undefined {
    const handle = this.get(wire);
    if (handle) this.byId.delete(wire.readUInt32BE());
    return handle;
  }

  /** Every handle still open, taken out (the session is ending). */
  drain(): OpenHandle[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    return all;
  }
}
