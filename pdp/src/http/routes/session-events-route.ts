import type { Request, Response } from 'express';
import { auditPrincipal } from '../../audit/audit-principal.ts';
import type { AuditRecorder } from '../../audit/audit-trail.ts';
import { buildSessionAuditEvent } from '../../audit/session-audit-event.ts';
import { parseSessionEvents, withPrincipal } from '../../contract/session-event-parser.ts';
import { PortcullisError } from '../../errors/portcullis-error.ts';
import type { TokenVerifier } from '../../identity/token-verifier.ts';

/**
 * POST /v1/sessions/events — PEPs report session start, each statement they ran and the end.
 * The subject token, when given, is verified here so the record names a proven principal.
 * All or nothing: a batch the audit trail cannot take whole is refused (503) for a retry.
 */
export function sessionEventsRoute(verifier: TokenVerifier, audit: AuditRecorder) {
  return async (request: Request, response: Response): Promise<void> => {
    const events = parseSessionEvents(request.body);
    const pepSub = response.locals.caller!.sub;
    const built = [];
    for (const event of events) {
      const principal = event.subjectToken === undefined ? { authenticated: false as const, error: 'token-missing' } : auditPrincipal(await verifier.verify(event.subjectToken));
      built.push(buildSessionAuditEvent(withPrincipal(event, principal, pepSub)));
    }
    let accepted = 0;
    for (const event of built) {
      if (!audit.record(event)) throw new PortcullisError('audit-unavailable', `the audit trail took ${accepted} of ${built.length} events; resend the rest`, { accepted });
      accepted += 1;
    }
    response.status(202).json({ accepted });
  };
}
