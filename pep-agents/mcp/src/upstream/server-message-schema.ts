import { type JSONRPCMessage, JSONRPCErrorResponseSchema, JSONRPCNotificationSchema, JSONRPCRequestSchema, JSONRPCResultResponseSchema } from '@modelcontextprotocol/sdk/types.js';

/**
 * A server's message checked against the protocol's JSON-RPC schema: the parsed value (as the
 * schema gives it back), or undefined when it is not one. The protocol's message schema is a union
 * of four strict objects that the members present tell apart (`method` with or without `id`,
 * `result`, `error`), so the one member that can match is asked alone: the same answer as the
 * union, without building the three failures a union tries first for every answer a server sends.
 */
export function readServerMessage(value: unknown): JSONRPCMessage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const schema = 'method' in value ? ('id' in value ? JSONRPCRequestSchema : JSONRPCNotificationSchema) : 'result' in value ? JSONRPCResultResponseSchema : JSONRPCErrorResponseSchema;
  const read = schema.safeParse(value);
  return read.success ? read.data : undefined;
}
