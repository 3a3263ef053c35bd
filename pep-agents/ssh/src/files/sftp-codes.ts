/**
 * SFTP version 3 numbers (draft-ietf-secsh-filexfer-02, what OpenSSH speaks): the status codes
 * a reply carries and the open flags of an OPEN request.
 */
export const SFTP_STATUS = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  OP_UNSUPPORTED: 8,
} as const;
export type SftpStatusCode = (typeof SFTP_STATUS)[keyof typeof SFTP_STATUS];

export const SFTP_OPEN = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const;

/** Flags that make an open change the file (or create one), whatever else it asks. */
export const SFTP_OPEN_CHANGING = SFTP_OPEN.WRITE | SFTP_OPEN.APPEND | SFTP_OPEN.CREAT | SFTP_OPEN.TRUNC | SFTP_OPEN.EXCL;
