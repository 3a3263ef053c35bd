/**
 * Server messages no statement owns (a NotificationResponse from any session, a ParameterStatus
 * after start-up, a notice or error between statements or at Parse/Bind/Sync) for a session
 * whose principal's results are masked:
 * - a notification keeps its channel (which the client chose with LISTEN) and the sender's
 *   process id; its payload, which `pg_notify` can fill with anything any session read, is
 *   replaced by `****` (an empty payload stays empty). LISTEN itself stays allowed: clients use
 *   notifications as wake-up calls, which works without the payload;
 * - a ParameterStatus passes only with a value from its setting's closed set
 *   (reported-parameter-values.ts), else it is withheld;
 * - errors and notices are reduced to SQLSTATE, severity and a fixed text (server-text-reducer.ts).
 *
 * Whether the principal's results are masked is what its decisions say: the session is masked
 * until a decision says `obligations.unmasked`, and from the first decision that does not, for
 * good (a principal does not become entitled in mid-session).
 */
import { REDACTED_TEXT } from '@portcullis/pep-core';
import { decodeNotification, decodeParameterStatus } from '../protocol/backend-messages.ts';
import { MessageBuilder } from '../protocol/message-builder.ts';
import type { SessionMessageFilter } from '../session/result-masker.ts';
import { isClosedParameterValue } from './reported-parameter-values.ts';
import { reduceErrorOrNotice } from './server-text-reducer.ts';

const HEADER_BYTES = 5;

export class SessionMessageMasker implements SessionMessageFilter {
  /** Undefined until a decision has said; treated as masked. */
  private clear: boolean | undefined;

  /** A decision of this session (the connect decision or a statement's) says whether its principal reads in clear. */
  decisionMade(unmasked: boolean): void {
    if (!unmasked) this.clear = false;
    else this.clear ??= true;
  }

  /** The principal's results are masked: server texts are reduced, payloads withheld. */
  get masked(): boolean {
    return this.clear !== true;
  }

  /** A whole ErrorResponse or NoticeResponse. */
  onErrorOrNotice(message: Buffer): Buffer {
    if (!this.masked) return message;
    const type = message[0] === 0x4e ? 'N' : 'E';
    return new MessageBuilder().bytes(reduceErrorOrNotice(type, message.subarray(HEADER_BYTES))).build(type);
  }

  /** A whole NotificationResponse (a malformed one is a protocol violation: the session ends). */
  onNotification(message: Buffer): Buffer {
    if (!this.masked) return message;
    const { processId, channel, payload } = decodeNotification(message.subarray(HEADER_BYTES));
    return new MessageBuilder().int32(processId).cstring(channel).cstring(payload === '' ? '' : REDACTED_TEXT).build('A');
  }

  /** A whole ParameterStatus; undefined: withheld. */
  onParameterStatus(message: Buffer): Buffer | undefined {
    if (!this.masked) return message;
    const { name, value } = decodeParameterStatus(message.subarray(HEADER_BYTES));
    return isClosedParameterValue(name, value) ? message : undefined;
  }
}
