/**
 * The approvals WebSocket protocol, version 1 (docs/approvals-protocol.md): JSON text frames,
 * one message each, with a `type`. Client → server messages are read here, strictly, by the
 * contract's ConsoleClientMessageV1.
 */
import { CONSOLE_PROTOCOL_VERSION, CONSOLE_SUBPROTOCOL, consoleClientMessageV1Validator, type ConsoleClientMessageV1 } from '@portcullis/contract';

export const PROTOCOL_VERSION = CONSOLE_PROTOCOL_VERSION;
export const SUBPROTOCOL = CONSOLE_SUBPROTOCOL;

/** A client message as read: a vote's reason is always there ('' when none was given). */
export type ClientMessage = Exclude<ConsoleClientMessageV1, { type: 'vote' }> | (Extract<ConsoleClientMessageV1, { type: 'vote' }> & { reason: string });

export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

const MAX_REQUEST_ID = 128;

export function parseClientMessage(raw: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ProtocolError('malformed-json', 'each message must be one JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError('invalid-message', 'each message must be a JSON object');
  // The request id is read first, so a refusal of anything else still names the request it answers.
  const requestId = (value as { request_id?: unknown }).request_id;
  if (requestId !== undefined && (typeof requestId !== 'string' || requestId.length > MAX_REQUEST_ID)) {
    throw new ProtocolError('invalid-message', `request_id must be a string of at most ${MAX_REQUEST_ID} characters`);
  }
  const reading = consoleClientMessageV1Validator.read(value, 'message');
  if (!reading.ok) throw new ProtocolError('invalid-message', reading.message, requestId);
  const message = reading.value;
  return message.type === 'vote' ? { ...message, reason: message.reason ?? '' } : message;
}
