// Turns TLS on or off in a running test cluster (scripts/components.sh starts them plain), and
// replaces its pg_hba.conf, then reloads and waits until new connections see the change.
import { chmodSync, chownSync, copyFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestPostgres } from './postgres-server.ts';
import type { CertificateFiles } from './test-certificates.ts';
import { eventually } from './eventually.ts';

export interface PostgresTlsOptions {
  /** The server's certificate and key; undefined turns TLS off (the server answers 'N'). */
  readonly server: CertificateFiles | undefined;
  /** CAs whose client certificates the server accepts (ssl_ca_file), for pg_hba `clientcert=`. */
  readonly clientCa?: string;
  /** pg_hba.conf lines replacing the cluster's (which are `local all all trust` and SCRAM on 127.0.0.1). */
  readonly hba?: readonly string[];
}

export async function configurePostgresTls(cluster: TestPostgres, options: PostgresTlsOptions): Promise<void> {
  if (options.hba) writeFileSync(join(cluster.dataDir, 'data', 'pg_hba.conf'), `${options.hba.join('\n')}\n`);
  if (options.server) {
    // The server's user must own the key and nobody else may read it, or PostgreSQL refuses it.
    const certFile = installForServer(cluster, options.server.certFile, 'server.crt');
    const keyFile = installForServer(cluster, options.server.keyFile, 'server.key');
    await cluster.sql(`ALTER SYSTEM SET ssl_cert_file = '${certFile}'`);
    await cluster.sql(`ALTER SYSTEM SET ssl_key_file = '${keyFile}'`);
    const caFile = options.clientCa ? installForServer(cluster, options.clientCa, 'client-ca.crt') : '';
    await cluster.sql(`ALTER SYSTEM SET ssl_ca_file = '${caFile}'`);
    await cluster.sql('ALTER SYSTEM SET ssl = on');
  } else {
    await cluster.sql('ALTER SYSTEM SET ssl = off');
  }
  const loadedBefore = await cluster.sql('SELECT pg_conf_load_time()');
  await cluster.sql('SELECT pg_reload_conf()');
  // A session started after the server re-read its files shows a newer load time, and (psql asks
  // for TLS when offered) whether the certificate took effect.
  const expected = options.server ? 't' : 'f';
  await eventually(`the test cluster turns TLS ${options.server ? 'on' : 'off'} (see ${join(cluster.dataDir, 'postgres.log')})`, async () => {
    // psql's unaligned output: "t|2025-01-01 00:00:00.000001+00".
    const [ssl, loaded] = (await cluster.sql('SELECT ssl, pg_conf_load_time() FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).trim().split('|');
    return loaded !== loadedBefore.trim() && ssl === expected;
  }, { intervalMs: 100 });
}

// A file per install: switching certificates never rewrites one the server has loaded.
let installs = 0;

function installForServer(cluster: TestPostgres, source: string, name: string): string {
  const owner = statSync(cluster.dataDir);
  const target = join(cluster.dataDir, `${++installs}-${name}`);
  copyFileSync(source, target);
  chownSync(target, owner.uid, owner.gid);
  chmodSync(target, 0o600);
  return target;
}
