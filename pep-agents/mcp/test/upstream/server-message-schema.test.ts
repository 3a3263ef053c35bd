// The gateway reads a server's messages with the one member of the protocol's JSON-RPC union that
// the message's members name; it must accept, refuse and give back exactly what the union does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { readServerMessage } from '../../src/upstream/server-message-schema.ts';

const CORPUS: unknown[] = [
  { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'Echo: hi' }] } },
  { jsonrpc: '2.0', id: 'a', result: {}, extra: 1 },
  { jsonrpc: '2.0', id: 1.5, result: {} },
  { jsonrpc: '2.0', id: 1, result: [] },
  { jsonrpc: '2.0', id: 1, result: { _meta: { progressToken: {} } } },
  { jsonrpc: '2.0', id: 1, result: { _meta: { progressToken: 'p', other: true }, x: 1 } },
  { jsonrpc: '2.0', id: 2, error: { code: -32602, message: 'bad', data: { why: 1 } } },
  { jsonrpc: '2.0', id: 2, error: { code: -32602, message: 'bad', unexpected: 'dropped' } },
  { jsonrpc: '2.0', error: { code: -32700, message: 'parse' } },
  { jsonrpc: '2.0', id: 2, error: { code: 1.5, message: 'bad' } },
  { jsonrpc: '2.0', id: 2, error: { code: 1 } },
  { jsonrpc: '2.0', id: 3, result: {}, error: { code: 1, message: 'both' } },
  { jsonrpc: '2.0', id: 4, method: 'sampling/createMessage', params: { messages: [] } },
  { jsonrpc: '2.0', id: 4, method: 'roots/list', params: { _meta: { progressToken: 7 } } },
  { jsonrpc: '2.0', id: 4, method: 'roots/list', params: { _meta: { progressToken: null } } },
  { jsonrpc: '2.0', id: null, method: 'roots/list' },
  { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } },
  { jsonrpc: '2.0', method: 'notifications/progress', params: 'not an object' },
  { jsonrpc: '2.0', method: 5 },
  { jsonrpc: '2.0', method: 'm', result: {} },
  { jsonrpc: '1.0', id: 1, result: {} },
  { id: 1, result: {} },
  {},
  [],
  [{ jsonrpc: '2.0', id: 1, result: {} }],
  null,
  'text',
  42,
];

describe('readServerMessage', () => {
  it('accepts, refuses and returns exactly as the protocol\'s message union', () => {
    for (const value of CORPUS) {
      const union = JSONRPCMessageSchema.safeParse(value);
      assert.deepEqual(readServerMessage(value), union.success ? union.data : undefined, JSON.stringify(value));
    }
  });
});
