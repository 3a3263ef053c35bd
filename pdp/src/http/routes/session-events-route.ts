import type { Request, Response } from 'express';
import { auditPrincipal, type AuditPrincipal } from '../../audit/audit-principal.ts';
import type { AuditRecorder } from '../../audit/audit-trail.ts';
import { sessionRecordsOfBatch } from '../../audit/session-statement-runs.ts';
import { parseSessionEvents, type PostedSessionEvent } from '../../contract/session-event-parser.ts';
import { PortcullisError } from '../../errors/portcullis-error.ts';
import type { TokenVerifier } from '../../identity/token-verifier.ts';
import type { PdpMetrics } from '../../metrics/pdp-metrics.ts';

const NO_TOKEN: AuditPrincipal = { authenticated: false, error: 'token-missing' };

/**
 * POST /v1/sessions/events — PEPs report session start, each statement they ran and the end.
 * The subject token, when given, is verified here so the record names a proven principal.
 * A session's statements posted together share one record (session-statement-runs.ts).
 * All or nothing: a batch the audit trail cannot take whole is refused (503) for a retry.
 * `accepted` counts posted events, as the PEP's sink expects, never records.
 */
export function sessionEventsRoute(verifier: TokenVerifier, audit: AuditRecorder, metrics: PdpMetrics) {
  return async (request: Request, response: Response): Promise<void> => {
    const events = parseSessionEvents(request.body);
    const principals = await verifySubjects(verifier, events);
    const records = sessionRecordsOfBatch(events, (token) => (token === undefined ? NO_TOKEN : principals.get(token)!), response.locals.caller!.sub);
    for (const { event, firstIndex } of records) {
      // Records are in the order of their first events, so every event before this one's first
      // is recorded: the PEP drops that many and resends the rest. (The threaded trail refuses
      // the first record or none; were one refused mid-batch, statements of earlier runs that
      // come later in the batch would be recorded twice, told apart by their event_id.)
      if (!audit.record(event)) {
        throw new PortcullisError('audit-unavailable', `the audit trail took ${firstIndex} of ${events.length} events; resend the rest`, { accepted: firstIndex });
      }
    }
    const tally = new Map<string, number>();
    for (const event of events) tally.set(event.event, (tally.get(event.event) ?? 0) + 1);
    for (const [event, count] of tally) metrics.sessionEvents.inc({ event }, count);
    response.status(202).json({ accepted: events.length });
  };
}

/** Each distinct subject token once: a batch is mostly one session's token, many times over. */
async function verifySubjects(verifier: TokenVerifier, events: readonly PostedSessionEvent[]): Promise<Map<string, AuditPrincipal>> {
  const tokens = [...new Set(events.map((event) => event.subjectToken).filter((token): token is string => token !== undefined))];
  const verified = await Promise.all(tokens.map(async (token) => [token, auditPrincipal(await verifier.verify(token))] as const));
  return new Map(verified);
}
