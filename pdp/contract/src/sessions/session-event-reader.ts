import { contractValidator, type ContractReading } from '../validation/contract-validator.ts';
import { SessionEventBatchV1, SessionEventV1 } from './session-event-v1.ts';

export const sessionEventV1Validator = contractValidator(SessionEventV1);
export const sessionEventBatchV1Validator = contractValidator(SessionEventBatchV1);

/** Reads an untrusted `POST /v1/sessions/events` body, `{events:[…]}` or one event: the events, or the first field refused. */
export function readSessionEventsV1(body: unknown): ContractReading<SessionEventV1[]> {
  const batched = typeof body === 'object' && body !== null && !Array.isArray(body) && (body as { events?: unknown }).events !== undefined;
  if (!batched) {
    const one = sessionEventV1Validator.read(body);
    return one.ok ? { ok: true, value: [one.value] } : one;
  }
  const batch = sessionEventBatchV1Validator.read(body);
  return batch.ok ? { ok: true, value: batch.value.events } : batch;
}
