import { duplicateJsonKey } from '@portcullis/pep-core';
import { JSON_RPC_ERROR, jsonRpcError } from './json-rpc-errors.ts';
import type { JsonRpcError, JsonRpcMessage, RequestId } from './json-rpc-message.ts';

export type ReadMessage = { readonly message: JsonRpcMessage } | { readonly error: JsonRpcError; readonly tooLarge?: true };

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const RESPONSE_KEYS = new Set(['jsonrpc', 'id', 'result', 'error']);

/**
 * The one way the gateway reads a JSON-RPC message from an agent: within a size, valid UTF-8 and
 * JSON, no member name twice in one object, exactly one message (MCP's current versions have no
 * batches), and the shape of a request, notification or response with nothing beside it. What
 * fails is answered with a JSON-RPC error and goes no further; what passes is the parsed value
 * the gateway decides and re-serialises, never the bytes it came in.
 */
export function readJsonRpcMessage(bytes: Buffer, maxBytes: number): ReadMessage {
  if (bytes.length > maxBytes) return { error: jsonRpcError(null, JSON_RPC_ERROR.invalidRequest, `portcullis: the message is larger than ${maxBytes} bytes`), tooLarge: true };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { error: jsonRpcError(null, JSON_RPC_ERROR.parseError, 'portcullis: the message is not valid UTF-8') };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: jsonRpcError(null, JSON_RPC_ERROR.parseError, 'portcullis: the message is not valid JSON') };
  }
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== undefined) return { error: jsonRpcError(idOf(value), JSON_RPC_ERROR.invalidRequest, `portcullis: the member name "${duplicate.slice(0, 64)}" appears twice in one object`) };
  return readMessageValue(value);
}

/** A parsed value checked for the shape of one JSON-RPC message. */
export function readMessageValue(value: unknown): ReadMessage {
  const invalid = (why: string): ReadMessage => ({ error: jsonRpcError(idOf(value), JSON_RPC_ERROR.invalidRequest, `portcullis: ${why}`) });
  if (Array.isArray(value)) return invalid('batches are not accepted: send one JSON-RPC message at a time');
  if (!isObject(value)) return invalid('a JSON-RPC message is a JSON object');
  if (value.jsonrpc !== '2.0') return invalid('"jsonrpc" must be "2.0"');
  if ('method' in value) {
    const extra = Object.keys(value).find((key) => !REQUEST_KEYS.has(key));
    if (extra !== undefined) return invalid(`a request carries no "${extra.slice(0, 64)}" member`);
    if (typeof value.method !== 'string' || value.method.length === 0) return invalid('"method" must be a non-empty string');
    if ('params' in value && !isObject(value.params)) return invalid('"params" must be an object');
    if ('id' in value && !isRequestId(value.id)) return invalid('"id" must be a string or an integer');
    return { message: value as unknown as JsonRpcMessage };
  }
  const extra = Object.keys(value).find((key) => !RESPONSE_KEYS.has(key));
  if (extra !== undefined) return invalid(`a response carries no "${extra.slice(0, 64)}" member`);
  if (!isRequestId(value.id)) return invalid('a response\'s "id" must be a string or an integer');
  if ('result' in value === 'error' in value) return invalid('a response carries exactly one of "result" and "error"');
  if ('result' in value && !isObject(value.result)) return invalid('"result" must be an object');
  if ('error' in value) {
    const error = value.error;
    if (!isObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') return invalid('"error" must have an integer "code" and a string "message"');
    const extraInError = Object.keys(error).find((key) => key !== 'code' && key !== 'message' && key !== 'data');
    if (extraInError !== undefined) return invalid(`an error carries no "${extraInError.slice(0, 64)}" member`);
  }
  return { message: value as unknown as JsonRpcMessage };
}

function idOf(value: unknown): RequestId | null {
  return isObject(value) && isRequestId(value.id) ? value.id : null;
}

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
