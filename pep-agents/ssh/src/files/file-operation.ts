import type { PepAction } from '@portcullis/pep-core';

/** What a file operation does: the contract's `file` action operations. */
export type FileOperationName = Extract<PepAction, { type: 'file' }>['operation'];

/** How a write opens its file. */
export interface FileOpen {
  readonly create?: boolean;
  readonly truncate?: boolean;
  readonly append?: boolean;
  readonly exclusive?: boolean;
}

/** Attributes an operation sets, as the host will be sent them. */
export interface FileAttributes {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
  readonly atime?: number;
  readonly mtime?: number;
}

/**
 * One file operation, the unit the PDP decides: one SFTP request, or one step of a legacy scp
 * transfer. Paths are absolute and normalised (`resolveRemotePath`): exactly what the host is sent.
 */
export interface FileOperation {
  readonly protocol: 'sftp' | 'scp';
  readonly operation: FileOperationName;
  readonly path: string;
  /** rename: the new name; symlink: what the link points to, as stored. */
  readonly targetPath?: string;
  /** The directory the session started in (relative paths were resolved from it). */
  readonly cwd: string;
  readonly open?: FileOpen;
  readonly attributes?: FileAttributes;
  /** A read through a handle that also writes: masks could not be kept on it. */
  readonly alsoWrites?: boolean;
}

/** The `file` action the PDP is asked about. */
export function fileAction(operation: FileOperation): PepAction {
  return {
    type: 'file',
    protocol: operation.protocol,
    operation: operation.operation,
    path: operation.path,
    ...(operation.targetPath === undefined ? {} : { target_path: operation.targetPath }),
    cwd: operation.cwd,
    ...(operation.open === undefined ? {} : { open: operation.open }),
    ...(operation.attributes === undefined || Object.keys(operation.attributes).length === 0 ? {} : { attributes: operation.attributes }),
  };
}

/** Only the attributes that are set, as whole non-negative numbers (what SFTP can carry). */
export function presentAttributes(attributes: Partial<Record<keyof FileAttributes, unknown>> | undefined): FileAttributes {
  const present: Record<string, number> = {};
  if (!attributes) return present;
  for (const name of ['mode', 'uid', 'gid', 'size', 'atime', 'mtime'] as const) {
    const value = attributes[name];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) present[name] = value;
  }
  return present;
}
