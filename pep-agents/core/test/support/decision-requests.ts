// Requests the starter policy answers in known ways (see policies/portcullis/data.json).
import type { DecisionRequest } from '../../src/index.ts';

export const ORDERS_DB = { type: 'postgres', name: 'orders-db', environment: 'production' } as const;

export function sql(subjectToken: string, text: string, sessionId = 'session-1'): DecisionRequest {
  return { subject_token: subjectToken, resource: { ...ORDERS_DB }, action: { type: 'sql', sql: text }, session: { id: sessionId, client_addr: '127.0.0.1' } };
}
