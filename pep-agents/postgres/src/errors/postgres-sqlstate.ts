import type { Refusal, RefusalKind } from '@portcullis/pep-core';

/** Where in a Postgres session a refusal happens: at login (FATAL, the connection ends) or per statement (ERROR). */
export type PostgresRefusalStage = 'startup' | 'statement';

/**
 * SQLSTATE per refusal, for the Postgres PEP's ErrorResponse. Chosen so clients react as they
 * should: 42501 is what Postgres itself says for a missing privilege; 28P01/28000 are the login
 * failures drivers report as such; 57P03 ("cannot connect now") makes poolers retry later;
 * 57014 is the code of a statement cancelled or timed out; 58000 ("system error": a failure
 * outside the database) keeps a session usable when one decision could not be had.
 */
export const POSTGRES_SQLSTATES: Readonly<Record<RefusalKind, Readonly<Record<PostgresRefusalStage, string>>>> = {
  denied: { startup: '42501', statement: '42501' },
  unauthenticated: { startup: '28P01', statement: '28000' },
  'approval-refused': { startup: '42501', statement: '42501' },
  'approval-pending': { startup: '57P03', statement: '57014' },
  cancelled: { startup: '57014', statement: '57014' },
  unavailable: { startup: '57P03', statement: '58000' },
};

export function postgresSqlState(refusal: Refusal, stage: PostgresRefusalStage): string {
  return POSTGRES_SQLSTATES[refusal.kind][stage];
}
