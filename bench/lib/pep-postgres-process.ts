import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../test/support/repository-root.ts';
import { freePort, nodeFlags, startService, type Service } from './processes.ts';
import { acceptsConnections } from './tcp-probe.ts';

export interface PepPostgresOptions {
  readonly pdpUrl: string;
  /** The PEP's own token (role pep). */
  readonly pepToken: string;
  readonly resourceName: string;
  readonly resourceEnvironment: string;
  readonly upstreamPort: number;
  readonly upstreamDatabase: string;
  readonly upstreamUser: string;
  readonly upstreamPassword: string;
  /** Extra node options for the PEP process alone (e.g. `--inspect=127.0.0.1:9230` to profile it under load). */
  readonly nodeOptions?: string;
  /** The checkout whose built PEP runs (default this one): another build to compare with. */
  readonly repositoryRoot?: string;
}

export interface PepPostgresProcess extends Service {
  readonly port: number;
}

/** Starts `portcullis-pep-postgres` as its own process (as in production), configured through its environment. */
export async function startPepPostgresProcess(options: PepPostgresOptions): Promise<PepPostgresProcess> {
  const port = await freePort();
  const service = await startService('pep-postgres', process.execPath, [...nodeFlags(options.nodeOptions), join(options.repositoryRoot ?? REPOSITORY_ROOT, 'pep-agents/postgres/bin/pep-postgres.mjs')], {
    PATH: process.env.PATH,
    PORTCULLIS_PEP_LISTEN_HOST: '127.0.0.1',
    PORTCULLIS_PEP_LISTEN_PORT: String(port),
    PORTCULLIS_PEP_UPSTREAM_HOST: '127.0.0.1',
    PORTCULLIS_PEP_UPSTREAM_PORT: String(options.upstreamPort),
    PORTCULLIS_PEP_UPSTREAM_DATABASE: options.upstreamDatabase,
    PORTCULLIS_PEP_UPSTREAM_USER: options.upstreamUser,
    PORTCULLIS_PEP_UPSTREAM_PASSWORD: options.upstreamPassword,
    PORTCULLIS_PEP_PDP_URL: options.pdpUrl,
    PORTCULLIS_PEP_TOKEN: options.pepToken,
    PORTCULLIS_PEP_RESOURCE_NAME: options.resourceName,
    PORTCULLIS_PEP_RESOURCE_ENVIRONMENT: options.resourceEnvironment,
  }, () => acceptsConnections(port));
  return { ...service, port };
}
