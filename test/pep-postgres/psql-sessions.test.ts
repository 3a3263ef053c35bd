import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sessionEventBodies, type SessionEventBody } from '../support/session-records.ts';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { eventually } from '../support/eventually.ts';

describe('psql through the Postgres PEP', () => {
  let stack: PepStack;
  let reader: string;
  let writer: string;
  const certDir = mkdtempSync(join(tmpdir(), 'portcullis-pep-tls-'));

  before(async () => {
    // A self-signed certificate: the PEP answers SSLRequest with TLS.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
    stack = await startPepStack({
      pepEnv: { PORTCULLIS_PEP_TLS_CERT_FILE: join(certDir, 'cert.pem'), PORTCULLIS_PEP_TLS_KEY_FILE: join(certDir, 'key.pem') },
    });
    reader = await stack.token('agent-reader', ['reader']);
    writer = await stack.token('agent-writer', ['writer']);
  });
  after(async () => {
    await stack?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('runs an allowed query over TLS and prints its rows', async () => {
    const result = await stack.psql(reader, "SELECT item, qty FROM orders WHERE id <= 2 ORDER BY id;\nSELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();", ['-A', '-t']);
    assert.equal(result.code, 0, result.stderr);
    // The client's link is TLS; the PEP's own session on the server is not (same host).
    assert.equal(result.stdout, 'item-1|1\nitem-2|2\nf\n');
  });

  it('serves a client that requires TLS (sslmode=require)', async () => {
    const result = await stack.psql(reader, 'SELECT 1;', ['-A', '-t', '-d', 'dbname=analytics sslmode=require']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '1\n');
  });

  it('decides a multi-statement query string as one and runs all of it', async () => {
    const before = (await stack.pdp.auditEvents('decisions')).length;
    const result = await stack.psql(writer, 'SELECT 1 AS a; SELECT count(*) FROM orders; UPDATE orders SET qty = qty WHERE id = 1;', ['-A', '-t']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '1\n20\nUPDATE 1\n');
    const decisions = (await stack.pdp.auditEvents('decisions')).slice(before);
    const sql = decisions.filter((event) => JSON.stringify(event).includes('UPDATE orders SET qty = qty'));
    assert.equal(sql.length, 1, 'one decision for the whole string');
  });

  it('prints a policy deny with its SQLSTATE and stops the script under ON_ERROR_STOP', async () => {
    const result = await stack.psql(writer, [
      '\\set ON_ERROR_STOP on',
      '\\set VERBOSITY verbose',
      'SELECT 1 AS before;',
      'DELETE FROM orders;',
      'SELECT 2 AS after;',
    ].join('\n'), ['-A', '-t']);
    assert.equal(result.code, 3, 'psql exits 3 when a script stops on an error');
    assert.equal(result.stdout, '1\n');
    assert.match(result.stderr, /ERROR:\s+42501: portcullis: denied by policy \(sql-delete-without-where/);
    assert.match(result.stderr, /\[decision [0-9a-f-]{36}\.\d+\.(?:a|n|r\d+)\.[\w-]{22}\]/);
    assert.equal((await stack.pg.sql('SELECT count(*) FROM orders')).trim(), '20', 'nothing was deleted');
  });

  it('keeps the session usable after a deny outside a transaction', async () => {
    const result = await stack.psql(writer, 'DELETE FROM orders;\n\\echo :LAST_ERROR_SQLSTATE\nSELECT count(*) FROM orders;', ['-A', '-t']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '42501\n20\n');
  });

  it('puts the transaction in the failed state after a deny inside BEGIN, as an error would', async () => {
    const result = await stack.psql(writer, [
      'BEGIN;',
      "INSERT INTO orders (item, qty) VALUES ('in-tx', 1);",
      'DELETE FROM orders;',
      'SELECT 1;',
      '\\echo status :LAST_ERROR_SQLSTATE',
      'COMMIT;',
      "SELECT count(*) FROM orders WHERE item = 'in-tx';",
    ].join('\n'), ['-A', '-t', '-e']);
    assert.equal(result.code, 0, result.stderr);
    // The statement after the deny fails as in any aborted transaction; COMMIT rolls back.
    assert.match(result.stderr, /current transaction is aborted, commands ignored until end of transaction block/);
    assert.match(result.stdout, /status 25P02\n/);
    assert.match(result.stdout, /COMMIT;\nROLLBACK\n/);
    assert.match(result.stdout, /\n0\n$/);
    assert.equal((await stack.pg.sql("SELECT count(*) FROM orders WHERE item = 'in-tx'")).trim(), '0');
  });

  it('lets a transaction go on after a deny once rolled back to a savepoint', async () => {
    const result = await stack.psql(writer, [
      'BEGIN;',
      "INSERT INTO orders (item, qty) VALUES ('kept', 1);",
      'SAVEPOINT s;',
      'DELETE FROM orders;',
      'ROLLBACK TO SAVEPOINT s;',
      'COMMIT;',
    ].join('\n'), ['-A', '-t']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await stack.pg.sql("SELECT count(*) FROM orders WHERE item = 'kept'")).trim(), '1');
  });

  it('copies rows out and in under decisions on the COPY statements', async () => {
    const out = await stack.psql(reader, 'COPY (SELECT id, item FROM orders WHERE id <= 3 ORDER BY id) TO STDOUT;');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, '1\titem-1\n2\titem-2\n3\titem-3\n');
    const into = await stack.psql(writer, 'COPY orders (item, qty) FROM STDIN;\ncopied-a\t7\ncopied-b\t8\n\\.\n');
    assert.equal(into.code, 0, into.stderr);
    assert.equal((await stack.pg.sql("SELECT count(*) FROM orders WHERE item LIKE 'copied-%'")).trim(), '2');
    const denied = await stack.psql(reader, 'COPY orders (item, qty) FROM STDIN;\nnope\t1\n\\.\n');
    assert.match(denied.stderr, /insufficient-role/);
    assert.equal((await stack.pg.sql("SELECT count(*) FROM orders WHERE item = 'nope'")).trim(), '0');
  });

  it('refuses a login whose password is not a valid token, with 28P01', async () => {
    const result = await stack.psql('not-a-token', 'SELECT 1;', ['-v', 'VERBOSITY=verbose']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /FATAL:\s+(28P01: )?portcullis: the credential was not accepted/);
    assert.doesNotMatch(result.stderr, /not-a-token/);
  });

  it('refuses a login without a password, with 28000', async () => {
    const result = await stack.psql(' ', 'SELECT 1;');
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /a token is required as the password/);
  });

  it('refuses start-up parameters that would bypass the statement policy', async () => {
    const result = await stack.psql(reader, 'SELECT 1;', ['-d', "dbname=analytics options='-c search_path=evil'"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /the start-up parameter "options" is not accepted/);
  });

  it('records the session: start, each statement with its decision and rows, end', async () => {
    const result = await stack.psql(reader, "SELECT id FROM orders WHERE id <= 4;\nSELECT 'recorded-marker';", ['-A', '-t']);
    assert.equal(result.code, 0, result.stderr);
    let records: Record<string, unknown>[] = [];
    let events: SessionEventBody[] = [];
    await eventually('the session that ran recorded-marker has ended on the record', async () => {
      records = await stack.pdp.auditEvents('sessions');
      // A run of the session's statements may be one record: read them one by one.
      events = sessionEventBodies(records);
      return events.some((event) => JSON.stringify(event).includes('recorded-marker')) && sessionEnded(events, 'recorded-marker');
    }, { intervalMs: 100 });
    const marker = events.find((event) => JSON.stringify(event).includes("SELECT 'recorded-marker'"));
    assert.ok(marker, 'the statement was recorded');
    const sessionId = marker.session.id;
    const mine = events.filter((event) => event.session.id === sessionId);
    const kinds = mine.map((event) => event.event);
    assert.deepEqual(kinds, ['session.start', 'session.statement', 'session.statement', 'session.end']);
    const first = JSON.stringify(mine[1]);
    assert.match(first, /"rows":4/);
    // A sealed decision id (docs/identity.md), checked by the PDP against this PEP, resource and principal.
    assert.match(first, /"decision_id":"[0-9a-f-]{36}\.\d+\.(?:a|n|r\d+)\.[\w-]{22}"/);
    assert.ok(mine.slice(1, 3).every((event) => event.decision_verified === true), 'each statement names a decision the PDP issued to this PEP');
    assert.ok(mine.every((event) => typeof event.received_at === 'string'), 'each record carries the PDP receive time');
    assert.match(JSON.stringify(mine[3]), /"statements":2/);
    const myRecords = records.filter((record) => JSON.stringify(record).includes(`"session":{"id":"${sessionId}"`));
    assert.doesNotMatch(JSON.stringify(myRecords), /eyJ/, 'no token in the record');
  });
});

function sessionEnded(events: SessionEventBody[], marker: string): boolean {
  const id = events.find((event) => JSON.stringify(event).includes(marker))?.session.id;
  return Boolean(id && events.some((event) => event.session.id === id && event.event === 'session.end'));
}
