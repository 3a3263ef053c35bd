/**
 * The masking suites' view of a throwaway PostgreSQL (test/support/postgres-server.ts, which
 * starts it through scripts/components.sh): superuser connections over the cluster's own Unix
 * socket, where it trusts its owner, so the raw wire client needs no password exchange.
 */
import { join } from 'node:path';
import pg from 'pg';
import { startTestPostgres as startCluster } from '../../../test/support/postgres-server.ts';

export interface TestPostgres {
  readonly port: number;
  /** The server's Unix socket (trust authentication), for the raw wire client. */
  readonly socketPath: string;
  /** A new connection as the superuser (the caller ends it). */
  client(): Promise<pg.Client>;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const cluster = await startCluster();
  return {
    port: cluster.port,
    socketPath: join(cluster.dataDir, `.s.PGSQL.${cluster.port}`),
    async client() {
      const connection = new pg.Client({ host: cluster.dataDir, port: cluster.port, user: cluster.superuser, database: 'postgres' });
      await connection.connect();
      return connection;
    },
    stop: () => cluster.stop(),
  };
}
