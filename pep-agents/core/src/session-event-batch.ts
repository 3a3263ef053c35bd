import type { SessionEventV1 } from '@portcullis/contract';

/** A `POST /v1/sessions/events` body. */
export interface SessionEventBatchBody {
  readonly subject_tokens?: string[];
  readonly events: SessionEventV1[];
}

/**
 * A batch as it is posted: each distinct caller token once, in `subject_tokens`, and each event
 * naming its token by place (`subject_token_ref`). A busy session's batch is hundreds of
 * statements under one token of a kilobyte or more: sent with every event, the token was most of
 * the body the PEP serialised and the PDP parsed and checked.
 */
export function sessionEventBatchBody(events: readonly SessionEventV1[]): SessionEventBatchBody {
  const places = new Map<string, number>();
  const tokens: string[] = [];
  const posted = events.map((event): SessionEventV1 => {
    const token = event.subject_token;
    if (token === undefined) return event;
    let place = places.get(token);
    if (place === undefined) {
      place = tokens.push(token) - 1;
      places.set(token, place);
    }
    const { subject_token: _token, ...rest } = event;
    rest.subject_token_ref = place;
    return rest;
  });
  return tokens.length === 0 ? { events: posted } : { subject_tokens: tokens, events: posted };
}
