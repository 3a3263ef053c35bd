import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG_APPLICATION_NAME } from '@portcullis/pep-postgres/testing';
import type { TestPostgres } from '../support/postgres-server.ts';

/** What the PEP sends upstream in place of a refused statement (it fails at parse time). */
const REFUSAL_STAND_IN = 'PORTCULLIS REFUSED THIS STATEMENT';

const logFile = (pg: TestPostgres): string => join(pg.dataDir, 'postgres.log');

/** The server log's size now: pass it to statementsLoggedSince to see what ran after. */
export const upstreamLogOffset = (pg: TestPostgres): number => statSync(logFile(pg)).size;

/**
 * Log lines of client sessions (not the PEP's catalog lookups) showing a statement that ran
 * since `offset`; needs `log_line_prefix` to name the application (` app=`).
 */
export const statementsLoggedSince = (pg: TestPostgres, offset: number): string[] =>
  readFileSync(logFile(pg)).subarray(offset).toString('utf8').split('\n')
    .filter((line) => line.includes(' app=') && !line.includes(`app=${CATALOG_APPLICATION_NAME} `))
    .filter((line) => /LOG:\s+(statement|execute [^:]*):/.test(line) || (/STATEMENT:/.test(line) && !line.includes(REFUSAL_STAND_IN)));
