import { auditPrincipal, type AuditPrincipal } from '../../audit/events/audit-principal.ts';
import type { AuditRecorder } from '../../audit/trail/audit-trail.ts';
import { sessionRecordsOfBatch } from '../../audit/events/session-statement-runs.ts';
import type { PostedSessionEvent } from '../../audit/events/posted-session-event.ts';
import { parseSessionEvents } from '../contract-body.ts';
import type { DecisionSeal } from '../../decisions/decision-seal.ts';
import { withoutSqlSecrets } from '../../enrichment/sql/sql-text-redaction.ts';
import { PortcullisError } from '../../errors/portcullis-error.ts';
import type { TokenVerifier } from '../../identity/token-verifier.ts';
import type { PdpMetrics } from '../../metrics/pdp-metrics.ts';
import { assertFronts } from '../resource-authorization.ts';
import { sendJson } from '../json-answer.ts';
import type { NativeRequest, NativeResponse } from '../native-http.ts';

const NO_TOKEN: AuditPrincipal = { authenticated: false, error: 'token-missing' };

/**
 * POST /v1/sessions/events — PEPs report session start, each statement they ran, the chunks of
 * an interactive session's recording and the end.
 * What a PEP says is checked where it can be: every event must be about a resource the PEP's
 * credential fronts, and a statement's decision id must be one this PDP (or a replica sharing its
 * key) issued to this PEP for that resource, principal and session, that allowed it — and, for a
 * statement run under a reused decision, that granted reuse (decision-seal.ts); a recording chunk
 * names the decision that opened the interactive session, checked the same way — else the batch
 * is refused (403) and nothing of it recorded. When the principal's token does not verify, the
 * decision cannot be checked: the statement is recorded with `decision_verified: false`. The
 * event's time is the PEP's claim; every record also carries the PDP's own `received_at`.
 * The subject token, when given, is verified here so the record names a proven principal.
 * A session's statements posted together share one record (session-statement-runs.ts).
 * All or nothing: a batch the audit trail cannot take whole is refused (503) for a retry, and
 * the 202 comes only once the records are durable (sync durability); a failed write is a 503
 * with `accepted: 0`, and the resent events are told apart from stored ones by their event_id.
 * `accepted` counts posted events, as the PEP's sink expects, never records.
 */
export function sessionEventsRoute(verifier: TokenVerifier, seal: DecisionSeal, audit: AuditRecorder, metrics: PdpMetrics, log: (message: string) => void) {
  return async (request: NativeRequest, response: NativeResponse): Promise<void> => {
    const receivedAt = new Date();
    const caller = response.locals.caller!;
    // A statement's secrets (ALTER ROLE … PASSWORD '…') never reach the record.
    const posted = parseSessionEvents(request.body).map(withoutSqlSecrets);
    posted.forEach((event, index) => assertFronts(caller, event.resource, `events[${index}].resource`));
    const principals = await verifySubjects(verifier, posted);
    const principalOf = (token: string | undefined): AuditPrincipal => (token === undefined ? NO_TOKEN : principals.get(token)!);
    // A session's statements under one reused decision name the same id, for the same parties:
    // one MAC check per distinct claim in the batch, not per statement.
    // Keyed by the verified principal object (one per distinct token) and the claim's other parties.
    const verifiedClaims = new Map<AuditPrincipal, Map<string, ReturnType<DecisionSeal['verify']>>>();
    const events = posted.map((event, index): PostedSessionEvent => {
      if (event.event !== 'session.statement' && event.event !== 'session.recording') return { ...event, receivedAt };
      const principal = principalOf(event.subjectToken);
      if (!principal.authenticated) return { ...event, receivedAt, decisionVerified: false };
      const claim = JSON.stringify([event.decisionId, event.session.id, event.resource.type, event.resource.name, event.resource.environment ?? null]);
      let claims = verifiedClaims.get(principal);
      if (claims === undefined) verifiedClaims.set(principal, (claims = new Map()));
      let issued = claims.get(claim);
      if (issued === undefined && !claims.has(claim)) {
        issued = seal.verify(event.decisionId, { pepSub: caller.sub, resource: event.resource, principal, sessionId: event.session.id });
        claims.set(claim, issued);
      }
      const refuse = (reason: string, message: string, field = 'decision_id'): never => {
        metrics.sessionEventsRefused.inc({ reason });
        // A PEP claiming what the PDP did not grant is a security event, not a client error: say so.
        log(`session events from ${caller.sub} refused (${reason}): events[${index}] names decision ${printable(event.decisionId)}`);
        throw new PortcullisError('forbidden', `events[${index}]: decision ${printable(event.decisionId)} ${message}`, {
          field: `events[${index}].${field}`,
          resource: { type: event.resource.type, name: event.resource.name },
        });
      };
      if (issued === undefined) refuse('decision-not-issued', `was not issued to this PEP for ${event.resource.type} ${event.resource.name}, ${principal.sub} and session ${printable(event.session.id)}`);
      else if (issued.grant.kind === 'none') refuse('decision-not-allow', 'allowed nothing: no statement ran under it');
      else if (event.event === 'session.statement' && event.decisionReused === true && issued.grant.kind !== 'reuse') refuse('decision-not-reusable', 'allowed one statement, not statements of its shape', 'decision_reused');
      return { ...event, receivedAt, decisionVerified: true };
    });
    const records = sessionRecordsOfBatch(events, principalOf, caller.sub);
    for (const { event, firstIndex } of records) {
      // Records are in the order of their first events, so every event before this one's first
      // is recorded: the PEP drops that many and resends the rest. (The threaded trail refuses
      // the first record or none; were one refused mid-batch, statements of earlier runs that
      // come later in the batch would be recorded twice, told apart by their event_id.)
      if (!audit.record(event)) {
        throw new PortcullisError('audit-unavailable', `the audit trail took ${firstIndex} of ${events.length} events; resend the rest`, { accepted: firstIndex });
      }
    }
    // Answered once durable (sync durability): the PEP's recorder drops what was accepted.
    try {
      await audit.durable();
    } catch (error) {
      throw new PortcullisError('audit-unavailable', `the audit trail could not store these events (${(error as Error).message}); resend them`, { accepted: 0 });
    }
    const tally = new Map<string, number>();
    for (const event of events) tally.set(event.event, (tally.get(event.event) ?? 0) + 1);
    for (const [event, count] of tally) metrics.sessionEvents.inc({ event }, count);
    sendJson(response, 202, { accepted: events.length });
  };
}

/** Each distinct subject token once: a batch is mostly one session's token, many times over. */
async function verifySubjects(verifier: TokenVerifier, events: readonly PostedSessionEvent[]): Promise<Map<string, AuditPrincipal>> {
  const tokens = [...new Set(events.map((event) => event.subjectToken).filter((token): token is string => token !== undefined))];
  const verified = await Promise.all(tokens.map(async (token) => [token, auditPrincipal(await verifier.verify(token))] as const));
  return new Map(verified);
}

/** An id the PEP sent, echoed only when short and plain (it lands in logs and answers). */
function printable(id: string): string {
  return /^[\w.:-]{1,128}$/.test(id) ? `"${id}"` : '(unprintable id)';
}
