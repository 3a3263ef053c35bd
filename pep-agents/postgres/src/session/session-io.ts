import type { PgError } from '../errors/pg-error.ts';
import { encodeParse, encodeQuery } from '../protocol/frontend-messages.ts';
import type { PendingResponses } from './pending-responses.ts';
import type { ResultMaskerFactory } from './result-masker.ts';
import type { StatementGate } from './postgres-protocol-adapter.ts';
import type { UpstreamChannel } from './upstream-channel.ts';

/** What the client-side handlers of one session share. */
export interface SessionIo {
  readonly upstream: UpstreamChannel;
  readonly pending: PendingResponses;
  readonly gate: StatementGate;
  readonly maskers: ResultMaskerFactory;
}

// A refused message is replaced by one the server must fail at parse time (no side effects), so
// the server aborts the transaction or skips the pipeline exactly as for a real error, and its
// transaction status stays the client's. Its ErrorResponse is then swapped for the PEP's.
const STAND_IN_SQL = 'PORTCULLIS REFUSED THIS STATEMENT';
// Named, so a failing stand-in Parse cannot drop the client's unnamed statement.
const STAND_IN_STATEMENT = 'portcullis.refused';

/** Refuses a Query (or FunctionCall): ErrorResponse, then the server's own ReadyForQuery. */
export function refuseSimple(io: SessionIo, error: PgError): void {
  io.upstream.send(encodeQuery(STAND_IN_SQL));
  io.pending.expect({ kind: 'refusal', error, simple: true });
}

/** Refuses an extended-protocol message: ErrorResponse, and the server skips to the client's Sync. */
export function refuseExtended(io: SessionIo, error: PgError): void {
  io.upstream.send(encodeParse(STAND_IN_STATEMENT, STAND_IN_SQL));
  io.pending.expect({ kind: 'refusal', error, simple: false });
}
