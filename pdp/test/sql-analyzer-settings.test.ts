import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createSqlAnalyzer, type SqlAnalyzer, type SqlSettingChange } from '../src/enrichment/sql-analyzer.ts';
import { oneStatement } from './support/one-statement.ts';

let analyzer: SqlAnalyzer;

before(async () => {
  analyzer = await createSqlAnalyzer();
});

function settings(sql: string): Array<Omit<SqlSettingChange, 'local'>> {
  return oneStatement((text) => analyzer.analyze(text), sql).settings.map(({ local: _local, ...change }) => change);
}

const literal = (route: SqlSettingChange['route'], name: string, value: string) => ({ route, name, value, value_kind: 'literal' });

describe('settings: every route by which a statement changes a setting', () => {
  test('SET, SET LOCAL, SET NAMES, FROM CURRENT, TO DEFAULT, RESET, RESET ALL, DISCARD ALL', () => {
    assert.deepEqual(settings("SET standard_conforming_strings = off"), [literal('set', 'standard_conforming_strings', 'off')]);
    assert.deepEqual(settings("SET LOCAL Client_Encoding TO 'SJIS'"), [literal('set', 'client_encoding', 'SJIS')]);
    assert.deepEqual(settings("SET NAMES 'BIG5'"), [literal('set', 'client_encoding', 'BIG5')]);
    assert.deepEqual(settings('SET standard_conforming_strings FROM CURRENT'), [{ route: 'set', name: 'standard_conforming_strings', value: null, value_kind: 'current' }]);
    assert.deepEqual(settings('SET client_encoding TO DEFAULT'), [{ route: 'set', name: 'client_encoding', value: null, value_kind: 'default' }]);
    assert.deepEqual(settings('RESET backslash_quote'), [{ route: 'reset', name: 'backslash_quote', value: null, value_kind: 'default' }]);
    assert.deepEqual(settings('RESET ALL'), [{ route: 'reset', name: 'all', value: null, value_kind: 'default' }]);
    assert.deepEqual(settings('DISCARD ALL'), [{ route: 'reset', name: 'all', value: null, value_kind: 'default' }]);
    assert.deepEqual(settings('DISCARD PLANS'), []);
    assert.deepEqual(settings('SET search_path = a, b'), [literal('set', 'search_path', 'a, b')]);
    assert.equal(oneStatement((text) => analyzer.analyze(text), 'SET LOCAL timezone = 1').settings[0]?.local, true);
  });

  test('set_config anywhere, with constant or computed names and values', () => {
    assert.deepEqual(settings("SELECT set_config('client_encoding', 'SJIS', false)"), [literal('set_config', 'client_encoding', 'SJIS')]);
    assert.deepEqual(settings("WITH a AS (SELECT set_config('application_name', (SELECT ssn FROM users LIMIT 1), false)) SELECT * FROM a"), [
      { route: 'set_config', name: 'application_name', value: null, value_kind: 'computed' },
    ]);
    // A computed name may be a credential's: the value is withheld (sql-credential-redaction.test.ts).
    assert.deepEqual(settings("SELECT length(set_config(name, 'x', true)) FROM pg_settings"), [{ route: 'set_config', name: null, value: '[redacted]', value_kind: 'literal' }]);
    // A name spelled with Unicode escapes is still set_config.
    assert.deepEqual(settings(String.raw`SELECT U&"\0073et_config"('client_encoding', 'SJIS', false)`), [literal('set_config', 'client_encoding', 'SJIS')]);
    assert.deepEqual(settings('SELECT id FROM orders'), []);
    assert.deepEqual(settings("SELECT pg_catalog.set_config(new_value => 'off', setting_name => 'standard_conforming_strings', is_local => false)"), [
      literal('set_config', 'standard_conforming_strings', 'off'),
    ]);
  });

  test('writes to pg_settings, in CTEs too', () => {
    const computed = { route: 'pg_settings', name: null, value: null, value_kind: 'computed' };
    assert.deepEqual(settings("UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'"), [computed]);
    assert.deepEqual(settings("UPDATE pg_catalog.pg_settings s SET setting = (SELECT ssn FROM users LIMIT 1) WHERE s.name = 'application_name'"), [computed]);
    assert.deepEqual(settings("WITH u AS (UPDATE pg_settings SET setting = 'x' WHERE name = 'application_name' RETURNING 1) SELECT * FROM u"), [computed]);
    assert.deepEqual(settings("INSERT INTO pg_settings (name, setting) VALUES ('a', 'b')"), [computed]);
    assert.deepEqual(settings('DELETE FROM pg_settings WHERE true'), [computed]);
    assert.deepEqual(settings('SELECT * FROM pg_settings'), []);
    assert.deepEqual(settings("UPDATE myschema.pg_settings SET setting = 'x' WHERE true"), []);
  });

  test('ALTER ROLE/USER/DATABASE/SYSTEM … SET/RESET and function SET clauses', () => {
    assert.deepEqual(settings('ALTER ROLE app SET standard_conforming_strings = off'), [literal('alter-role', 'standard_conforming_strings', 'off')]);
    assert.deepEqual(settings("ALTER USER app IN DATABASE shop SET client_encoding = 'SJIS'"), [literal('alter-role', 'client_encoding', 'SJIS')]);
    assert.deepEqual(settings('ALTER ROLE ALL RESET ALL'), [{ route: 'alter-role', name: 'all', value: null, value_kind: 'default' }]);
    assert.deepEqual(settings("ALTER DATABASE shop SET client_encoding = 'SJIS'"), [literal('alter-database', 'client_encoding', 'SJIS')]);
    assert.deepEqual(settings('ALTER SYSTEM SET standard_conforming_strings = off'), [literal('alter-system', 'standard_conforming_strings', 'off')]);
    assert.deepEqual(settings("CREATE FUNCTION f() RETURNS int LANGUAGE sql SET standard_conforming_strings = off AS 'SELECT 1'"), [
      literal('function-set', 'standard_conforming_strings', 'off'),
    ]);
    assert.deepEqual(settings('ALTER PROCEDURE p() SET client_encoding FROM CURRENT'), [{ route: 'function-set', name: 'client_encoding', value: null, value_kind: 'current' }]);
    assert.deepEqual(settings('ALTER FUNCTION f() RESET ALL'), [{ route: 'function-set', name: 'all', value: null, value_kind: 'default' }]);
  });

  test('SET TRANSACTION and SET SESSION CHARACTERISTICS report each option', () => {
    assert.deepEqual(settings('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY').map((c) => c.name), ['transaction_read_only']);
    assert.deepEqual(settings('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE').map((c) => c.name), ['transaction_isolation']);
  });
});
