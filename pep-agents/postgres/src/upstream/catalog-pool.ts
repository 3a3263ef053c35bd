import pg from 'pg';
import type { UpstreamConfig } from './upstream-connector.ts';

/** Marks the PEP's own catalog sessions in pg_stat_activity, apart from the clients' sessions. */
export const CATALOG_APPLICATION_NAME = 'portcullis-pep-catalog';

/**
 * A small pool of the PEP's own sessions on the server, for catalog look-ups during result
 * masking (table OIDs → names). Never a client's session: its transaction and rights stay as
 * the client left them. Bounded in size and in time per query; a failure fails the statement.
 */
export function createCatalogPool(upstream: UpstreamConfig, log: (message: string) => void): pg.Pool {
  const pool = new pg.Pool({
    host: upstream.host,
    port: upstream.port,
    database: upstream.database,
    user: upstream.user,
    password: () => upstream.password(),
    application_name: CATALOG_APPLICATION_NAME,
    max: 2,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: upstream.connectTimeoutMs,
    statement_timeout: 5000,
  });
  pool.on('error', (error) => log(`catalog session error (${(error as NodeJS.ErrnoException).code ?? error.name})`));
  return pool;
}
