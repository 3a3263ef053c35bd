// The exit statuses an exec the PEP refused ends with, chosen from sysexits(3) so a script can
// tell a refusal from the command's own failure (and a retry from a final no).
import type { RefusalKind } from '@portcullis/pep-core';

/** Policy said no, or the approval was refused (EX_NOPERM). */
export const EXIT_DENIED = 77;
/** Try again later: no decision could be had, or the approval is still pending (EX_TEMPFAIL). */
export const EXIT_RETRY_LATER = 75;
/** The request itself cannot be run as sent (a NUL byte in the command, EX_DATAERR). */
export const EXIT_BAD_REQUEST = 65;
/** The host behind the PEP could not be reached or refused the PEP (EX_UNAVAILABLE). */
export const EXIT_UPSTREAM_UNAVAILABLE = 69;

export function exitStatusFor(kind: RefusalKind): number {
  switch (kind) {
    case 'denied':
    case 'unauthenticated':
    case 'approval-refused':
      return EXIT_DENIED;
    case 'approval-pending':
    case 'cancelled':
    case 'unavailable':
      return EXIT_RETRY_LATER;
  }
}
