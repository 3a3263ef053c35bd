import { sqlOutputsRequestV1Validator, type SqlOutputsResponseV1 } from '@portcullis/contract';
import { selectOutputs } from '../../enrichment/select-outputs.ts';
import { MAX_SQL_BYTES, type SqlAnalyzer } from '../../enrichment/sql-analyzer.ts';
import { PortcullisError } from '../../errors/portcullis-error.ts';
import { acceptedOrRefused } from '../contract-body.ts';
import { assertFronts } from '../resource-authorization.ts';
import { sendJsonAnswer } from '../json-answer.ts';
import type { NativeRequest, NativeResponse } from '../native-http.ts';

/**
 * POST /v1/sql/outputs — which columns each result column of one SELECT is computed from. A PEP
 * asks it about SQL it met outside a decision (the Postgres PEP: a view's definition). Analysis
 * only: no policy, no audit record, nothing about the caller's principals. The request may name
 * the resource the SQL comes from (`resource {type, name}`): one the PEP does not front is a 403.
 */
export function sqlOutputsRoute(analyzer: SqlAnalyzer) {
  return (request: NativeRequest, response: NativeResponse): void => {
    const body = acceptedOrRefused(sqlOutputsRequestV1Validator.read(request.body));
    if (body.resource !== undefined) assertFronts(response.locals.caller!, body.resource, 'resource');
    // More characters than the analyzer takes UTF-8 bytes is refused before any parsing (as decisions are bounded).
    if (body.sql.length > MAX_SQL_BYTES) throw new PortcullisError('invalid-request', `sql must be at most ${MAX_SQL_BYTES} characters`, { field: 'sql' });
    const sql = body.sql;
    const answer: SqlOutputsResponseV1 = selectOutputs(analyzer, sql);
    sendJsonAnswer(response, answer);
  };
}
