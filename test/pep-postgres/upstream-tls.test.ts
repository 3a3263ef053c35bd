// TLS on the PEP's link to a real PostgreSQL: a throwaway CA and server certificates made with
// openssl, the cluster switched to ssl=on, and pg_hba refusing the PEP's role without TLS, so a
// session that works cannot have been plaintext. Then the failures a user must see clearly:
// wrong CA, wrong host name, a server without TLS.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadPepPostgresConfig } from '@portcullis/pep-postgres/testing';
import { startPostgresPep, type RunningPostgresPep } from '@portcullis/pep-postgres';
import { encodeTerminate } from '@portcullis/pep-postgres/testing';
import { createCatalogPool } from '@portcullis/pep-postgres/testing';
import { UpstreamConnector, type UpstreamConfig } from '@portcullis/pep-postgres/testing';
import { configurePostgresTls } from '../support/postgres-tls.ts';
import { createTestCa, issueCertificate, selfSignedCertificate, type CertificateFiles } from '../support/test-certificates.ts';
import { startPepStack, UPSTREAM_USER, type PepStack } from './pep-stack.ts';
import { loginNameOf } from './raw-client.ts';
import { eventually } from '../support/eventually.ts';

const SSL_OF_THIS_SESSION = 'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

interface ExtraPep {
  readonly pep: RunningPostgresPep;
  readonly logs: string[];
}

describe("TLS on the Postgres PEP's link to the database", () => {
  let dir: string;
  let ca: CertificateFiles;
  let otherCa: CertificateFiles;
  /** Signed by `ca` for the name localhost only: 127.0.0.1 is not in it. */
  let serverCert: CertificateFiles;
  let selfSigned: CertificateFiles;
  let pepClientCert: CertificateFiles;
  let stack: PepStack;
  let token: string;
  const extraPeps: ExtraPep[] = [];

  const hba = (...lines: string[]): string[] => ['local all all trust', ...lines, 'host all all 127.0.0.1/32 scram-sha-256'];
  const TLS_ONLY_FOR_THE_PEP = `hostnossl all ${UPSTREAM_USER} 127.0.0.1/32 reject`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-upstream-tls-'));
    ca = createTestCa(dir, 'portcullis-test-ca');
    otherCa = createTestCa(dir, 'some-other-ca');
    serverCert = issueCertificate(ca, dir, 'db-server', { dnsNames: ['localhost'] });
    selfSigned = selfSignedCertificate(dir, 'db-self-signed', { dnsNames: ['localhost'] });
    pepClientCert = issueCertificate(ca, dir, UPSTREAM_USER, { purpose: 'client' });
    stack = await startPepStack({
      pepEnv: {
        PORTCULLIS_PEP_UPSTREAM_HOST: 'localhost',
        PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-full',
        PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: ca.certFile,
      },
    });
    // The PEP opens upstream sessions only for clients, so the server can change under it.
    await configurePostgresTls(stack.pg, { server: serverCert, hba: hba(TLS_ONLY_FOR_THE_PEP) });
    // pii-reader: pg_stat_ssl is a view, whose columns the starter policy masks for plain readers.
    token = await stack.token('agent-tls', ['reader', 'pii-reader']);
  });
  after(async () => {
    try {
      for (const extra of extraPeps) await extra.pep.close();
      await stack?.close();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  /** One more PEP on the same PDP and cluster, with other upstream settings. */
  const startPep = async (upstreamEnv: Record<string, string>): Promise<ExtraPep> => {
    const logs: string[] = [];
    const env = {
      PORTCULLIS_PEP_LISTEN_PORT: '0',
      PORTCULLIS_PEP_UPSTREAM_PORT: String(stack.pg.port),
      PORTCULLIS_PEP_UPSTREAM_USER: UPSTREAM_USER,
      PORTCULLIS_PEP_UPSTREAM_PASSWORD: stack.upstreamPassword,
      PORTCULLIS_PEP_PDP_URL: stack.pdp.url,
      PORTCULLIS_PEP_TOKEN: stack.pdp.pepToken,
      PORTCULLIS_PEP_RESOURCE_NAME: 'analytics-db',
      ...upstreamEnv,
    };
    const extra = { pep: await startPostgresPep(loadPepPostgresConfig(env), { env, log: (message) => logs.push(message) }), logs };
    extraPeps.push(extra);
    return extra;
  };

  const sslThrough = async (port: number): Promise<{ ssl: boolean; version: string }> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: loginNameOf(token), database: 'analytics', password: token });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(SSL_OF_THIS_SESSION)).rows[0];
    } finally {
      await client.end();
    }
  };

  /** The client's login through `pep` fails: the error it sees (and nothing of the password). */
  const refusedLogin = async (extra: ExtraPep, message: RegExp): Promise<void> => {
    const sessionsBefore = await stack.upstreamBackends();
    const client = new pg.Client({ host: '127.0.0.1', port: extra.pep.port, user: loginNameOf(token), database: 'analytics', password: token });
    client.on('error', () => undefined);
    await assert.rejects(client.connect(), (error: pg.DatabaseError) => {
      assert.equal(error.code, '08006');
      assert.equal(error.severity, 'FATAL');
      assert.match(error.message, message);
      assert.ok(!error.message.includes(stack.upstreamPassword));
      return true;
    });
    assert.equal(await stack.upstreamBackendsSettle(sessionsBefore), sessionsBefore, 'no session was opened upstream');
    assert.ok(extra.logs.every((line) => !line.includes(stack.upstreamPassword) && !line.includes(token)));
  };

  const upstreamConfig = (host: string, tls: UpstreamConfig['tls']): UpstreamConfig => ({
    host,
    port: stack.pg.port,
    database: 'postgres',
    user: UPSTREAM_USER,
    password: () => stack.upstreamPassword,
    connectTimeoutMs: 10_000,
    maxMessageBytes: 1024 * 1024,
    tls,
  });

  it('verify-full: sessions run over TLS to the named server, checked against the configured CA', async () => {
    const client = await stack.client(token);
    const row = (await client.query(`${SSL_OF_THIS_SESSION.replace('SELECT ssl, version', 'SELECT ssl, version, current_user AS role')}`)).rows[0];
    assert.equal(row.ssl, true);
    assert.match(row.version, /^TLSv1\.[23]$/);
    assert.equal(row.role, UPSTREAM_USER);

    const psql = await stack.psql(token, `${SSL_OF_THIS_SESSION};`, ['-A', '-t']);
    assert.equal(psql.code, 0, psql.stderr);
    assert.match(psql.stdout.trim(), /^t\|TLSv1\.[23]$/);
  });

  it('binds SCRAM to the TLS channel (SCRAM-SHA-256-PLUS) when the server offers it', async () => {
    const connector = new UpstreamConnector(upstreamConfig('localhost', { mode: 'verify-full', rootCert: { file: ca.certFile }, clientCert: undefined }));
    const connection = await connector.connect({ application_name: 'portcullis-tls-test' });
    try {
      assert.ok(connection.socket instanceof TLSSocket);
      // The server checked the binding data: a wrong certificate hash would have failed the login.
      assert.equal(connection.channelBound, true);
    } finally {
      connection.socket.end(encodeTerminate());
    }
  });

  it('the cluster refuses the PEP without TLS, so the sessions above were encrypted', async () => {
    const plain = await startPep({ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'disable' });
    await refusedLogin(plain, /the database refused the PEP's session: pg_hba\.conf rejects connection .* no encryption/);
  });

  it('verify-full refuses a server certificate from another CA, with a clear error and no session', async () => {
    const wrongCa = await startPep({ PORTCULLIS_PEP_UPSTREAM_HOST: 'localhost', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: otherCa.certFile });
    await refusedLogin(wrongCa, /the PEP does not trust the database's TLS certificate: it is not signed by the configured root certificate/);
    assert.ok(wrongCa.logs.some((line) => /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/.test(line)), wrongCa.logs.join('\n'));
  });

  it('verify-full refuses a certificate that does not name the host; verify-ca accepts it', async () => {
    const byAddress = { PORTCULLIS_PEP_UPSTREAM_HOST: '127.0.0.1', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: ca.certFile };
    const wrongName = await startPep({ ...byAddress, PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-full' });
    await refusedLogin(wrongName, /the PEP does not trust the database's TLS certificate: it is not issued for the configured host name/);
    assert.ok(wrongName.logs.some((line) => /ERR_TLS_CERT_ALTNAME_INVALID/.test(line)));

    const chainOnly = await startPep({ ...byAddress, PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-ca' });
    assert.equal((await sslThrough(chainOnly.pep.port)).ssl, true);
    const chainOnlyWrongCa = await startPep({ ...byAddress, PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-ca', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: otherCa.certFile });
    await refusedLogin(chainOnlyWrongCa, /does not trust the database's TLS certificate/);
  });

  it("the catalog pool uses the same TLS settings as the sessions", async () => {
    const pool = createCatalogPool(upstreamConfig('localhost', { mode: 'verify-full', rootCert: { file: ca.certFile }, clientCert: undefined }), () => undefined);
    try {
      assert.equal((await pool.query(SSL_OF_THIS_SESSION)).rows[0].ssl, true);
    } finally {
      await pool.end();
    }
    const wrongCa = createCatalogPool(upstreamConfig('localhost', { mode: 'verify-full', rootCert: { file: otherCa.certFile }, clientCert: undefined }), () => undefined);
    try {
      await assert.rejects(wrongCa.query('SELECT 1'), (error: NodeJS.ErrnoException) => /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/.test(error.code ?? ''));
    } finally {
      await wrongCa.end();
    }
  });

  it('cancels a running statement over the TLS link (psql Ctrl-C)', async () => {
    const owner = new pg.Client({ host: '127.0.0.1', port: stack.pg.port, user: 'postgres', password: stack.pg.superuserPassword, database: 'postgres' });
    await owner.connect();
    try {
      await owner.query('BEGIN');
      await owner.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const psql = stack.spawnPsql(token, ['-c', 'SELECT count(*) FROM orders']);
      let stderr = '';
      psql.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => psql.on('exit', (code) => resolve(code)));
      const lockWaits = `SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = '${UPSTREAM_USER}' AND a.wait_event_type = 'Lock' AND s.ssl`;
      await eventually('the statement waits on the lock', async () => (await stack.pg.sql(lockWaits)).trim() === '1');
      assert.equal((await stack.pg.sql(lockWaits)).trim(), '1', 'the statement waits on the lock, in a TLS session');
      psql.kill('SIGINT');
      assert.equal(await exited, 1);
      assert.match(stderr, /canceling statement due to user request/);
    } finally {
      await owner.query('ROLLBACK');
      await owner.end();
    }
  });

  it('presents a client certificate when the server asks for one (pg_hba clientcert=verify-full)', async () => {
    await configurePostgresTls(stack.pg, {
      server: serverCert,
      clientCa: ca.certFile,
      hba: hba(TLS_ONLY_FOR_THE_PEP, `hostssl all ${UPSTREAM_USER} 127.0.0.1/32 scram-sha-256 clientcert=verify-full`),
    });
    try {
      const withCert = await startPep({
        PORTCULLIS_PEP_UPSTREAM_HOST: 'localhost',
        PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: ca.certFile,
        PORTCULLIS_PEP_UPSTREAM_SSLCERT: pepClientCert.certFile,
        PORTCULLIS_PEP_UPSTREAM_SSLKEY: pepClientCert.keyFile,
      });
      assert.equal((await sslThrough(withCert.pep.port)).ssl, true);
      const pool = createCatalogPool(
        upstreamConfig('localhost', { mode: 'verify-full', rootCert: { file: ca.certFile }, clientCert: { certFile: pepClientCert.certFile, keyFile: pepClientCert.keyFile } }),
        () => undefined,
      );
      try {
        assert.equal((await pool.query(SSL_OF_THIS_SESSION)).rows[0].ssl, true);
      } finally {
        await pool.end();
      }
      // The stack's PEP has no client certificate.
      const client = new pg.Client({ host: '127.0.0.1', port: stack.port, user: loginNameOf(token), database: 'analytics', password: token });
      client.on('error', () => undefined);
      await assert.rejects(client.connect(), /the database refused the PEP's session: connection requires a valid client certificate/);
    } finally {
      await configurePostgresTls(stack.pg, { server: serverCert, hba: hba(TLS_ONLY_FOR_THE_PEP) });
    }
  });

  it('require encrypts against a self-signed certificate, which verify-full refuses', async () => {
    await configurePostgresTls(stack.pg, { server: selfSigned });
    const encryptOnly = await startPep({ PORTCULLIS_PEP_UPSTREAM_HOST: 'localhost', PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'require' });
    assert.equal((await sslThrough(encryptOnly.pep.port)).ssl, true);
    const pool = createCatalogPool(upstreamConfig('localhost', { mode: 'require', rootCert: undefined, clientCert: undefined }), () => undefined);
    try {
      assert.equal((await pool.query(SSL_OF_THIS_SESSION)).rows[0].ssl, true);
    } finally {
      await pool.end();
    }
    const client = new pg.Client({ host: '127.0.0.1', port: stack.port, user: loginNameOf(token), database: 'analytics', password: token });
    client.on('error', () => undefined);
    await assert.rejects(client.connect(), /the PEP does not trust the database's TLS certificate: it is self-signed/);
  });

  it('require fails closed against a server with ssl=off: no plaintext fallback', async () => {
    // pg_hba would now let the PEP in without TLS: only the PEP's own refusal stands in the way.
    await configurePostgresTls(stack.pg, { server: undefined, hba: hba() });
    const encryptOnly = await startPep({ PORTCULLIS_PEP_UPSTREAM_HOST: 'localhost', PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'require' });
    await refusedLogin(encryptOnly, /the database does not accept TLS, which the PEP requires for its connection/);
    assert.ok(encryptOnly.logs.some((line) => /answered 'N' to SSLRequest/.test(line)));
    const plain = await startPep({ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'disable' });
    assert.equal((await sslThrough(plain.pep.port)).ssl, false, 'the same server takes plaintext sessions now');
  });
});
