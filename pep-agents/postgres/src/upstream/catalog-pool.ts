import pg from 'pg';
import type { UpstreamConfig } from './upstream-connector.ts';
import { UpstreamTls } from './upstream-tls.ts';

/** Marks the PEP's own catalog sessions in pg_stat_activity, apart from the clients' sessions. */
export const CATALOG_APPLICATION_NAME = 'portcullis-pep-catalog';

/**
 * A small pool of the PEP's own sessions on the server, for catalog look-ups during result
 * masking (table OIDs → names). Never a client's session: its transaction and rights stay as
 * the client left them. Bounded in size and in time per query; a failure fails the statement.
 * It logs in with the PEP's credential, so its link is as protected as the sessions' (same TLS
 * settings, channel binding when the server offers it).
 */
export function createCatalogPool(upstream: UpstreamConfig, log: (message: string) => void): pg.Pool {
  const tls = new UpstreamTls(upstream.tls);
  // node-postgres runs the SSLRequest itself; it takes the TLS options per client, so each new
  // catalog session reads the current certificate files like the sessions do. (The pool hides
  // `password` from enumeration, so it is carried over by name.)
  class CatalogClient extends pg.Client {
    constructor(config: pg.ClientConfig = {}) {
      const ssl = tls.enabled ? tls.connectOptions(upstream.host) : false;
      super({ ...config, password: config.password, ssl, enableChannelBinding: tls.enabled });
    }
  }
  const pool = new pg.Pool({
    Client: CatalogClient,
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
