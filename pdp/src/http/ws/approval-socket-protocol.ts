/**
 * The approvals WebSocket protocol, version 1 (docs/approvals-protocol.md): JSON text frames,
 * one message each, with a `type`. Client → server messages are parsed here, strictly.
 */
export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = 'portcullis.v1';

export type ClientMessage =
  | { type: 'auth'; token: string }
  | { type: 'subscribe'; resume_from?: string }
  | { type: 'history'; request_id?: string; limit?: number }
  | { type: 'vote'; request_id?: string; approval_id: string; verdict: 'approve' | 'deny'; reason: string }
  | { type: 'wait'; request_id?: string; approval_id: string }
  | { type: 'page'; request_id?: string; page: string }
  | { type: 'get'; request_id?: string; approval_id: string }
  | { type: 'ping'; request_id?: string };

export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseClientMessage(raw: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ProtocolError('malformed-json', 'each message must be one JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError('invalid-message', 'each message must be a JSON object');
  const message = value as Record<string, unknown>;
  const requestId = optionalString(message.request_id, 'request_id', 128, undefined);
  const withId = requestId === undefined ? {} : { request_id: requestId };
  switch (message.type) {
    case 'auth':
      return { type: 'auth', token: requiredString(message.token, 'token', 16 * 1024, requestId) };
    case 'subscribe': {
      const resume = optionalString(message.resume_from, 'resume_from', 48, requestId);
      return { type: 'subscribe', ...(resume === undefined ? {} : { resume_from: resume }) };
    }
    case 'history': {
      const limit = message.limit;
      if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 500)) {
        throw new ProtocolError('invalid-message', 'limit must be an integer from 1 to 500', requestId);
      }
      return { type: 'history', ...withId, ...(limit === undefined ? {} : { limit }) };
    }
    case 'vote': {
      const verdict = message.verdict;
      if (verdict !== 'approve' && verdict !== 'deny') throw new ProtocolError('invalid-message', 'verdict must be "approve" or "deny"', requestId);
      const reason = optionalString(message.reason, 'reason', 2000, requestId) ?? '';
      return { type: 'vote', ...withId, approval_id: approvalId(message.approval_id, requestId), verdict, reason };
    }
    case 'wait':
      return { type: 'wait', ...withId, approval_id: approvalId(message.approval_id, requestId) };
    case 'page':
      return { type: 'page', ...withId, page: requiredString(message.page, 'page', 128, requestId) };
    case 'get':
      return { type: 'get', ...withId, approval_id: approvalId(message.approval_id, requestId) };
    case 'ping':
      return { type: 'ping', ...withId };
    default:
      throw new ProtocolError('invalid-message', 'type must be one of auth, subscribe, history, page, get, vote, wait, ping', requestId);
  }
}

function approvalId(value: unknown, requestId: string | undefined): string {
  const id = requiredString(value, 'approval_id', 64, requestId);
  if (!UUID.test(id)) throw new ProtocolError('invalid-message', 'approval_id must be a UUID', requestId);
  return id;
}

function requiredString(value: unknown, field: string, max: number, requestId: string | undefined): string {
  const text = optionalString(value, field, max, requestId);
  if (text === undefined || text === '') throw new ProtocolError('invalid-message', `${field} is required`, requestId);
  return text;
}

function optionalString(value: unknown, field: string, max: number, requestId: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max) throw new ProtocolError('invalid-message', `${field} must be a string of at most ${max} characters`, requestId);
  return value;
}
