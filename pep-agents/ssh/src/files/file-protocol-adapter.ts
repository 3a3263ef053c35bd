import { byteStreamMasksSupported, type ByteStreamMaskV1, type CommandDescription, type GateRefusal, type PepAction, type ProtocolAdapter } from '@portcullis/pep-core';
import { fileAction, type FileOperation } from './file-operation.ts';
import { SFTP_STATUS, type SftpStatusCode } from './sftp-codes.ts';

/** The byte-stream name mask obligations use for file contents (absent `stream`: every stream). */
export const FILE_STREAM = 'file';

/** What the client is told of a refused file operation: an SFTP status, and the same line for stderr. */
export interface FileRefusal {
  readonly status: SftpStatusCode;
  /** One line, client-safe: the refusal with its decision (and approval) id. */
  readonly message: string;
}

/** The masks of an answer that apply to file contents. */
export function fileMasks(masks: readonly ByteStreamMaskV1[]): ByteStreamMaskV1[] {
  return masks.filter((mask) => mask.stream === undefined || mask.stream === FILE_STREAM);
}

/**
 * The SSH PEP's file side of the command gate: file operations as `file` actions, masks only on
 * what is read from a file (nothing else carries file contents back), refusals as SFTP statuses.
 */
export class FileProtocolAdapter implements ProtocolAdapter<FileOperation, FileRefusal, ByteStreamMaskV1> {
  action(command: FileOperation): PepAction {
    return fileAction(command);
  }

  describe(command: FileOperation): CommandDescription {
    const target = command.targetPath === undefined ? '' : ` -> ${command.targetPath}`;
    return { text: `${command.protocol} ${command.operation} ${command.path}${target}`, kind: command.operation, method: command.protocol, path: command.path };
  }

  reuseShape(command: FileOperation): string {
    // The whole action (and whether the handle also writes, which decides masking): an allow
    // stands only for the very same operation on the very same path.
    return JSON.stringify([fileAction(command), command.alsoWrites === true]);
  }

  canMask(masks: readonly ByteStreamMaskV1[], command: FileOperation): boolean {
    const applying = fileMasks(masks);
    if (applying.length === 0) return true;
    // Masks hide values in what is read; on a handle that also writes, the masked view and the file would part ways.
    if (command.operation !== 'read' || command.alsoWrites) return false;
    return byteStreamMasksSupported(applying);
  }

  refuse(refusal: GateRefusal<ByteStreamMaskV1>): FileRefusal {
    switch (refusal.reason) {
      case 'decision': {
        const { kind, message, hint } = refusal.refusal;
        const status = kind === 'unavailable' || kind === 'cancelled' ? SFTP_STATUS.FAILURE : SFTP_STATUS.PERMISSION_DENIED;
        return { status, message: hint ? `${message} ${hint}` : message };
      }
      case 'record-unavailable':
        return { status: SFTP_STATUS.FAILURE, message: 'portcullis: the session record cannot keep up, so the file operation is refused; retry shortly' };
      case 'token-expired':
        return { status: SFTP_STATUS.PERMISSION_DENIED, message: `portcullis: the access token has expired; connect again with a fresh token [decision ${refusal.answer.decision_id}]` };
      case 'masking-unavailable':
        return {
          status: SFTP_STATUS.PERMISSION_DENIED,
          message: `portcullis: this file may only be read masked, and it cannot be masked this way (read it alone, not opened for writing too) [decision ${refusal.answer.decision_id}]`,
        };
    }
  }
}
