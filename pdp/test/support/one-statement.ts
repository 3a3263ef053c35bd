import assert from 'node:assert/strict';
import type { EnrichedSqlAction, SqlStatementFacts } from '../../src/enrichment/sql/sql-facts.ts';

/** The facts of a text that must parse into exactly one statement (the analyzer suites' common check). */
export function oneStatement(analyze: (sql: string) => EnrichedSqlAction, sql: string): SqlStatementFacts {
  const result = analyze(sql);
  assert.equal(result.parse_error, null, `unexpected parse error for ${sql}`);
  assert.equal(result.statements.length, 1, `expected one statement in ${sql}`);
  return result.statements[0] as SqlStatementFacts;
}
