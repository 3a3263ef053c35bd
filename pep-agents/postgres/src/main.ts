import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import {
  createMaskStrategyRegistry,
  DecisionReuseCache,
  createProcessLogger,
  logFunction,
  type LogFunction,
  maskHashKeyFromEnv,
  PdpConnection,
  secretReader,
  stopOnSignals,
  type PdpConnectionHealth,
  type ResourceV1,
} from '@portcullis/pep-core';
import { CancelKeyRegistry } from './cancel/cancel-key-registry.ts';
import { loadPepPostgresConfig, type PepPostgresConfig } from './config/pep-postgres-config.ts';
import { PostgresPepServer } from './server/pep-postgres-server.ts';
import { PdpSqlOutputsClient, PgCatalogResolver, PgViewDefinitions, SessionMaskerFactory, ViewLineageResolver } from './masking/index.ts';
import type { ResultMaskerFactory } from './session/result-masker.ts';
import { createCatalogPool } from './upstream/catalog-pool.ts';
import { UpstreamConnector, type UpstreamConfig } from './upstream/upstream-connector.ts';

export interface RunningPostgresPep {
  readonly host: string;
  readonly port: number;
  readonly server: PostgresPepServer;
  /** Sessions open now, and whether the session record keeps up (statements are refused while it does not). */
  health(): PdpConnectionHealth & { readonly sessions: number };
  /** Ends every session, ships the session records still queued, closes the PDP connections. */
  close(): Promise<void>;
}

export interface PostgresPepOptions {
  /** The process log; by default JSON lines on standard error (readable lines on a terminal). */
  readonly log?: LogFunction;
  /** Where secrets named by `*_env` settings are read from. */
  readonly env?: NodeJS.ProcessEnv;
  /** Result masking per session; by default the masking modules over a catalog pool of the PEP's own. */
  readonly maskers?: () => ResultMaskerFactory;
}

/** The composition root of the Postgres PEP: builds every part from config and wires them. */
export async function startPostgresPep(config: PepPostgresConfig, options: PostgresPepOptions = {}): Promise<RunningPostgresPep> {
  const log = options.log ?? logFunction(createProcessLogger({ name: 'portcullis-pep-postgres', ...(options.env ? { env: options.env } : {}) }));
  const env = options.env ?? process.env;
  const resource: ResourceV1 = {
    type: 'postgres',
    name: config.resource.name,
    ...(config.resource.environment ? { environment: config.resource.environment } : {}),
  };

  const pdp = new PdpConnection(config.pdp, { log, env });
  const upstream: UpstreamConfig = {
    host: config.upstream.host,
    port: config.upstream.port,
    database: config.upstream.database,
    user: config.upstream.user,
    password: secretReader(config.upstream.password, env),
    connectTimeoutMs: config.upstream.connectTimeoutMs,
    maxMessageBytes: config.limits.maxMessageBytes,
    tls: config.upstream.tls,
  };
  let maskers = options.maskers;
  let catalogPool: ReturnType<typeof createCatalogPool> | undefined;
  if (!maskers) {
    catalogPool = createCatalogPool(upstream, log);
    const catalog = new PgCatalogResolver(catalogPool);
    // A view's columns are traced through its definition, which the PDP's analyzer reads.
    const views = new ViewLineageResolver(new PgViewDefinitions(catalogPool), new PdpSqlOutputsClient(pdp.transport, resource), { log });
    const strategies = createMaskStrategyRegistry({ hashKey: maskHashKeyFromEnv(env) });
    maskers = () => new SessionMaskerFactory({ catalog, views, strategies });
  }

  const server = new PostgresPepServer(
    {
      authorizer: pdp.authorizer(resource),
      upstream: new UpstreamConnector(upstream),
      cancelKeys: new CancelKeyRegistry(),
      maskers,
      recorder: pdp.recorders(resource, 'sql'),
      ...(config.decisionReuseShapes > 0 ? { decisionReuse: () => new DecisionReuseCache({ maxEntries: config.decisionReuseShapes }) } : {}),
      tls: config.tls ? createSecureContext({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }) : undefined,
      allowPlaintext: config.allowPlaintext,
      limits: config.limits,
      log,
    },
    config.limits.maxConnections,
  );
  const address = await server.listen(config.listen.host, config.listen.port);
  log(`listening on ${address.address}:${address.port} for ${resource.name}, upstream ${config.upstream.host}:${config.upstream.port}/${config.upstream.database} (sslmode ${config.upstream.tls.mode}), PDP ${config.pdp.url}${config.tls ? ', TLS on' : ''}`, {
    address: address.address, port: address.port, resource: resource.name, upstream: `${config.upstream.host}:${config.upstream.port}/${config.upstream.database}`,
    upstream_sslmode: config.upstream.tls.mode, pdp: config.pdp.url, tls: Boolean(config.tls),
  });

  return {
    host: address.address,
    port: address.port,
    server,
    health: () => ({ ...pdp.health(), sessions: server.sessionCount }),
    async close() {
      await server.close();
      await catalogPool?.end();
      await pdp.close();
    },
  };
}

/** `portcullis-pep-postgres`: config from the environment, stop on SIGINT/SIGTERM. */
export async function runFromEnvironment(env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createProcessLogger({ name: 'portcullis-pep-postgres', env });
  const pep = await startPostgresPep(loadPepPostgresConfig(env), { env, log: logFunction(logger) });
  stopOnSignals(() => pep.close(), (error) => logger.error({ err: error }, `shutdown failed: ${error instanceof Error ? error.message : String(error)}`));
}
