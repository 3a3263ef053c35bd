import { clientSafeText, refusalFor, type DecisionAnswer } from '@portcullis/pep-core';
import { postgresSqlState } from './postgres-sqlstate.ts';
import { PgError, SQLSTATE } from './pg-error.ts';

/**
 * The ErrorResponse a client sees for a deny, with the core's wording and SQLSTATE per kind of
 * refusal (42501 policy, 28P01 token at login, 57014 cancelled or still held, 58000/57P03 no
 * decision could be had). At session start it is FATAL; for a statement it is an ERROR and the
 * session goes on.
 */
export function refusalError(answer: DecisionAnswer, phase: 'connect' | 'statement'): PgError {
  // Text the PostgreSQL parser rejects is answered as the server would answer it (nothing reached it).
  if (answer.effect === 'deny' && answer.syntax_error && phase === 'statement') {
    return new PgError(SQLSTATE.syntaxError, clientSafeText(answer.syntax_error.message), { position: answer.syntax_error.position });
  }
  const refusal = refusalFor(answer.effect === 'allow' ? { ...answer, effect: 'deny' } : answer)!;
  const codes = answer.reasons.map((reason) => reason.code);
  return new PgError(postgresSqlState(refusal, phase === 'connect' ? 'startup' : 'statement'), refusal.message, {
    severity: phase === 'connect' ? 'FATAL' : 'ERROR',
    detail: `reason${codes.length === 1 ? '' : 's'}: ${codes.join(', ') || refusal.code}`,
    // Still held: the same statement sent again once approved runs (the approval is found by its binding).
    ...(refusal.hint ? { hint: refusal.hint } : {}),
  });
}
