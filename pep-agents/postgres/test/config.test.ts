import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPepPostgresConfig } from '../src/config/pep-postgres-config.ts';

const MINIMAL = {
  PORTCULLIS_PEP_UPSTREAM_USER: 'app',
  PORTCULLIS_PEP_UPSTREAM_PASSWORD: 'pw',
  PORTCULLIS_PEP_TOKEN: 'token',
  PORTCULLIS_PEP_RESOURCE_NAME: 'orders-db',
};

describe('loadPepPostgresConfig', () => {
  it('fills defaults and freezes the result', () => {
    const config = loadPepPostgresConfig(MINIMAL);
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 6543 });
    assert.equal(config.limits.maxMessageBytes, 64 * 1024 * 1024);
    assert.equal(config.limits.maxStartupBytes, 10 * 1024);
    assert.equal(config.tls, undefined);
    assert.ok(Object.isFrozen(config.upstream));
  });

  it('names the variable that is wrong', () => {
    assert.throws(() => loadPepPostgresConfig({ ...MINIMAL, PORTCULLIS_PEP_RESOURCE_NAME: '' }), /PORTCULLIS_PEP_RESOURCE_NAME: is required/);
    assert.throws(() => loadPepPostgresConfig({ ...MINIMAL, PORTCULLIS_PEP_LISTEN_PORT: 'x' }), /PORTCULLIS_PEP_LISTEN_PORT: must be an integer/);
    assert.throws(() => loadPepPostgresConfig({ ...MINIMAL, PORTCULLIS_PEP_TLS_CERT_FILE: '/nonexistent' }), /PORTCULLIS_PEP_TLS_KEY_FILE: is required/);
    assert.throws(() => loadPepPostgresConfig({ ...MINIMAL, PORTCULLIS_PEP_UPSTREAM_PASSWORD_FILE: '/nonexistent/pw' }), /not both/);
    assert.throws(() => loadPepPostgresConfig({ ...MINIMAL, PORTCULLIS_PEP_PDP_URL: 'ftp://x' }), /PORTCULLIS_PEP_PDP_URL/);
  });

  it('never puts a secret into an error message', () => {
    assert.throws(
      () => loadPepPostgresConfig({ ...MINIMAL, PORTCULLIS_PEP_UPSTREAM_PASSWORD: 'hunter2-secret', PORTCULLIS_PEP_UPSTREAM_PASSWORD_FILE: '/etc/hostname' }),
      (error: Error) => /not both/.test(error.message) && !error.message.includes('hunter2'),
    );
  });
});
