import { contractValidator, type ContractReading } from '../validation/contract-validator.ts';
import { SessionEventBatchV1, SessionEventV1 } from './session-event-v1.ts';

export const sessionEventV1Validator = contractValidator(SessionEventV1);
export const sessionEventBatchV1Validator = contractValidator(SessionEventBatchV1);

/**
 * Reads an untrusted `POST /v1/sessions/events` body, `{events:[…]}` or one event: the events,
 * or the first field refused. An event that names its token by place in the batch's
 * `subject_tokens` comes out holding that token as `subject_token`, as if it had been sent with it.
 */
export function readSessionEventsV1(body: unknown): ContractReading<SessionEventV1[]> {
  const batched = typeof body === 'object' && body !== null && !Array.isArray(body) && (body as { events?: unknown }).events !== undefined;
  if (!batched) {
    const one = sessionEventV1Validator.read(body);
    if (!one.ok) return one;
    // A lone event has no batch to look its token up in.
    if (one.value.subject_token_ref !== undefined) return refused('subject_token_ref', 'must not be given outside a batch (subject_tokens)');
    return { ok: true, value: [one.value] };
  }
  const batch = sessionEventBatchV1Validator.read(body);
  if (!batch.ok) return batch;
  const tokens = batch.value.subject_tokens ?? [];
  const events = batch.value.events;
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index]!;
    const ref = event.subject_token_ref;
    if (ref === undefined) continue;
    if (event.subject_token !== undefined) return refused(`events[${index}].subject_token_ref`, 'must not be given with subject_token');
    const token = tokens[ref];
    if (token === undefined) return refused(`events[${index}].subject_token_ref`, tokens.length === 0 ? 'must name a token of subject_tokens, and the batch has none' : `must be a place in subject_tokens (0 to ${tokens.length - 1})`);
    event.subject_token = token;
    delete event.subject_token_ref;
  }
  return { ok: true, value: events };
}

function refused(field: string, problem: string): ContractReading<never> {
  return { ok: false, field, problem, message: `${field} ${problem}` };
}
