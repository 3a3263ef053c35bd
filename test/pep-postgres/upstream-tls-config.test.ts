// PORTCULLIS_PEP_UPSTREAM_SSL*: the defaults (secure unless the server is on this machine) and
// every combination that would silently weaken or ignore a setting, refused at start.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPepPostgresConfig } from '@portcullis/pep-postgres/testing';
import { createTestCa, issueCertificate, type CertificateFiles } from '../support/test-certificates.ts';

const MINIMAL = {
  PORTCULLIS_PEP_UPSTREAM_USER: 'app',
  PORTCULLIS_PEP_UPSTREAM_PASSWORD: 'pw-never-shown',
  PORTCULLIS_PEP_TOKEN: 'token',
  PORTCULLIS_PEP_RESOURCE_NAME: 'orders-db',
};

describe('upstream TLS configuration', () => {
  let dir: string;
  let ca: CertificateFiles;
  let client: CertificateFiles;
  let other: CertificateFiles;
  let notPem: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-config-'));
    ca = createTestCa(dir, 'config-ca');
    client = issueCertificate(ca, dir, 'pep-client', { purpose: 'client' });
    other = issueCertificate(ca, dir, 'other-client', { purpose: 'client' });
    notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'not a certificate\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const load = (env: Record<string, string>) => loadPepPostgresConfig({ ...MINIMAL, ...env });

  it('defaults to disable for a server on this machine, as before', () => {
    for (const host of [undefined, '127.0.0.1', '127.8.9.10', 'localhost', '::1']) {
      const config = load(host ? { PORTCULLIS_PEP_UPSTREAM_HOST: host } : {});
      assert.deepEqual(config.upstream.tls, { mode: 'disable', rootCert: undefined, clientCert: undefined }, String(host));
    }
  });

  it('asks for an explicit mode for a server elsewhere, and defaults to verify-full once a root certificate is given', () => {
    for (const host of ['db.internal', '10.0.0.5', '::ffff:10.0.0.5']) {
      assert.throws(() => load({ PORTCULLIS_PEP_UPSTREAM_HOST: host }), /PORTCULLIS_PEP_UPSTREAM_SSLMODE: is required for the non-loopback upstream host/);
    }
    const config = load({ PORTCULLIS_PEP_UPSTREAM_HOST: 'db.internal', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: ca.certFile });
    assert.deepEqual(config.upstream.tls, { mode: 'verify-full', rootCert: { file: ca.certFile }, clientCert: undefined });
    assert.equal(load({ PORTCULLIS_PEP_UPSTREAM_HOST: 'db.internal', PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'disable' }).upstream.tls.mode, 'disable');
    assert.ok(Object.isFrozen(config.upstream.tls));
  });

  it('takes every mode with what it needs, and a client certificate', () => {
    assert.equal(load({ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'require' }).upstream.tls.mode, 'require');
    assert.equal(load({ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-ca', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: ca.certFile }).upstream.tls.mode, 'verify-ca');
    assert.equal(load({ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-full', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: 'system' }).upstream.tls.rootCert, 'system');
    const withClient = load({ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'require', PORTCULLIS_PEP_UPSTREAM_SSLCERT: client.certFile, PORTCULLIS_PEP_UPSTREAM_SSLKEY: client.keyFile });
    assert.deepEqual(withClient.upstream.tls.clientCert, { certFile: client.certFile, keyFile: client.keyFile });
  });

  it('refuses modes that fall back to plaintext, and unknown ones', () => {
    for (const mode of ['prefer', 'allow']) {
      assert.throws(() => load({ PORTCULLIS_PEP_UPSTREAM_SSLMODE: mode }), /PORTCULLIS_PEP_UPSTREAM_SSLMODE: "(prefer|allow)" is not offered: it falls back to plaintext/);
    }
    assert.throws(() => load({ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify_full' }), /PORTCULLIS_PEP_UPSTREAM_SSLMODE: must be one of disable, require, verify-ca, verify-full/);
  });

  it('refuses settings that would be ignored or weaker than they look', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-full' }, /SSLROOTCERT: is required with PORTCULLIS_PEP_UPSTREAM_SSLMODE=verify-full/],
      [{ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-ca' }, /SSLROOTCERT: is required with PORTCULLIS_PEP_UPSTREAM_SSLMODE=verify-ca/],
      [{ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'require', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: ca.certFile }, /SSLROOTCERT: is not checked with PORTCULLIS_PEP_UPSTREAM_SSLMODE=require/],
      [{ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'disable', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: ca.certFile }, /SSLROOTCERT: is set but PORTCULLIS_PEP_UPSTREAM_SSLMODE is disable/],
      [{ PORTCULLIS_PEP_UPSTREAM_SSLCERT: client.certFile, PORTCULLIS_PEP_UPSTREAM_SSLKEY: client.keyFile }, /SSLCERT: is set but PORTCULLIS_PEP_UPSTREAM_SSLMODE is disable/],
      [{ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-ca', PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: 'system' }, /"system" needs PORTCULLIS_PEP_UPSTREAM_SSLMODE=verify-full/],
      [{ PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'require', PORTCULLIS_PEP_UPSTREAM_SSLCERT: client.certFile }, /SSLKEY: is required with the other client certificate file/],
    ];
    for (const [env, problem] of cases) assert.throws(() => load(env), problem, JSON.stringify(env));
  });

  it('checks the files at start: readable, PEM, and a key that matches its certificate', () => {
    const verify = { PORTCULLIS_PEP_UPSTREAM_SSLMODE: 'verify-full' };
    assert.throws(() => load({ ...verify, PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: join(dir, 'missing.crt') }), /SSLROOTCERT: cannot read .*missing\.crt \(ENOENT\)/);
    assert.throws(() => load({ ...verify, PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: notPem }), /SSLROOTCERT: .*not-pem\.txt holds no PEM certificate/);
    const withCa = { ...verify, PORTCULLIS_PEP_UPSTREAM_SSLROOTCERT: ca.certFile };
    assert.throws(() => load({ ...withCa, PORTCULLIS_PEP_UPSTREAM_SSLCERT: client.certFile, PORTCULLIS_PEP_UPSTREAM_SSLKEY: join(dir, 'missing.key') }), /SSLKEY: cannot read/);
    assert.throws(
      () => load({ ...withCa, PORTCULLIS_PEP_UPSTREAM_SSLCERT: client.certFile, PORTCULLIS_PEP_UPSTREAM_SSLKEY: other.keyFile }),
      (error: Error) => /SSLCERT: .* is not a usable certificate and key \(ERR_OSSL_X509_KEY_VALUES_MISMATCH\)/.test(error.message) && !error.message.includes('PRIVATE KEY'),
    );
  });
});
