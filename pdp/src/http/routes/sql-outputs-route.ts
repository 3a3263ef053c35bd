import type { Request, Response } from 'express';
import { object, text } from '../../contract/field-readers.ts';
import type { SqlOutputsResponseV1 } from '@portcullis/contract';
import { selectOutputs } from '../../enrichment/select-outputs.ts';
import { MAX_SQL_BYTES, type SqlAnalyzer } from '../../enrichment/sql-analyzer.ts';
import { assertFronts } from '../resource-authorization.ts';

/**
 * POST /v1/sql/outputs — which columns each result column of one SELECT is computed from. A PEP
 * asks it about SQL it met outside a decision (the Postgres PEP: a view's definition). Analysis
 * only: no policy, no audit record, nothing about the caller's principals. The request may name
 * the resource the SQL comes from (`resource {type, name}`): one the PEP does not front is a 403.
 */
export function sqlOutputsRoute(analyzer: SqlAnalyzer) {
  return (request: Request, response: Response): void => {
    const body = object(request.body, 'body');
    if (body.resource !== undefined) {
      const resource = object(body.resource, 'resource');
      assertFronts(response.locals.caller!, { type: text(resource.type, 'resource.type', 256), name: text(resource.name, 'resource.name', 256) }, 'resource');
    }
    // More characters than the analyzer takes UTF-8 bytes is refused before any parsing (as decisions are bounded).
    const sql = text(body.sql, 'sql', MAX_SQL_BYTES);
    const answer: SqlOutputsResponseV1 = selectOutputs(analyzer, sql);
    response.json(answer);
  };
}
