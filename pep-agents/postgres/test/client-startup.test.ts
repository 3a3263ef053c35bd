import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readClientStartup } from '../src/front-door/client-startup.ts';

describe('readClientStartup', () => {
  it('passes on harmless session settings and keeps user and database for the decision', () => {
    const startup = readClientStartup(new Map([['user', 'agent'], ['application_name', 'psql'], ['client_encoding', 'UTF8'], ['datestyle', 'ISO']]));
    assert.equal(startup.user, 'agent');
    assert.equal(startup.database, 'agent');
    assert.equal(startup.applicationName, 'psql');
    assert.deepEqual(startup.forwarded, { application_name: 'psql', client_encoding: 'UTF8', DateStyle: 'ISO' });
  });

  it('refuses what would bypass the statement policy: options, role, search_path, replication', () => {
    for (const [name, value] of [['options', '-c role=admin'], ['role', 'admin'], ['search_path', 'evil'], ['replication', 'database']]) {
      assert.throws(() => readClientStartup(new Map([['user', 'agent'], [name!, value!]])), { severity: 'FATAL', message: new RegExp(name === 'replication' ? 'replication' : `"${name}"`) });
    }
  });

  it('refuses every client encoding but UTF8: the server must read the bytes the policy parser read', () => {
    for (const encoding of ['SJIS', 'gb-18030', 'LATIN1', 'SQL_ASCII', 'WIN1252', 'EUC_JP', 'auto', '']) {
      assert.throws(() => readClientStartup(new Map([['user', 'a'], ['client_encoding', encoding]])), { sqlState: '22023' }, encoding);
    }
    for (const encoding of ['UTF8', 'utf8', 'UTF-8', 'unicode', 'Unicode']) {
      assert.equal(readClientStartup(new Map([['user', 'a'], ['client_encoding', encoding]])).forwarded.client_encoding, encoding);
    }
  });

  it('requires a user name', () => {
    assert.throws(() => readClientStartup(new Map([['database', 'x']])), { sqlState: '28000' });
  });
});
