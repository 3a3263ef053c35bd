import { readDecisionRequestV1, readSessionEventsV1, type ContractReading, type ReadDecisionRequestV1 } from '@portcullis/contract';
import { postedSessionEvent, type PostedSessionEvent } from '../audit/events/posted-session-event.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';

/** A body the contract read, or `invalid-request` naming the refused field (`resource.name must not be empty`). */
export function acceptedOrRefused<T>(reading: ContractReading<T>): T {
  if (!reading.ok) throw new PortcullisError('invalid-request', reading.message, { field: reading.field });
  return reading.value;
}

/** An untrusted `POST /v1/decisions` body as the V1 contract reads it; throws `invalid-request` naming the field. */
export function parseDecisionRequestV1(body: unknown): ReadDecisionRequestV1 {
  return acceptedOrRefused(readDecisionRequestV1(body));
}

/** An untrusted `POST /v1/sessions/events` body (`{events:[…]}` or one event); throws `invalid-request` naming the field. */
export function parseSessionEvents(body: unknown): PostedSessionEvent[] {
  return acceptedOrRefused(readSessionEventsV1(body)).map(postedSessionEvent);
}
