// Every statement the PEP hands to PostgreSQL is on the session record, however the client
// leaves. node-postgres settles a failed query on its ErrorResponse and a client that quits right
// then closes its socket before the server's ReadyForQuery has passed through the PEP: that
// statement ran (and failed) and must still be recorded, as must one the client abandons mid-run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sessionEventBodies, type SessionEventBody } from '../support/session-records.ts';
import { seedSql } from './bypass-corpus-fixtures.ts';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { describe as describeMessage, msg, RawClient } from './raw-client.ts';
import { eventually } from '../support/eventually.ts';

describe('the session record keeps every statement the server was given', () => {
  let stack: PepStack;
  let writer: string;

  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db', seed: seedSql() });
    writer = await stack.token('agent-record-completeness', ['writer']);
  });
  after(async () => {
    await stack?.close();
  });

  /** The sessions stream once every marker shows up in a statement (bounded: 30 s). */
  async function recordsNaming(markers: readonly string[]): Promise<SessionEventBody[]> {
    return eventually(`every statement is on the session record (${markers.length} markers)`, async () => {
      const events = sessionEventBodies(await stack.pdp.auditEvents('sessions'));
      const text = JSON.stringify(events.filter((event) => event.event === 'session.statement'));
      const missing = markers.filter((marker) => !text.includes(marker));
      if (missing.length > 0) throw new Error(`not yet recorded: ${missing.join(', ')}`);
      return events;
    }, { timeoutMs: 30_000, intervalMs: 200 });
  }

  const statementOf = (events: readonly SessionEventBody[], marker: string): SessionEventBody | undefined =>
    events.find((event) => event.event === 'session.statement' && JSON.stringify(event).includes(marker));

  it('30 clients that quit as soon as their query settles: each statement, failed or not, is recorded', async () => {
    const markers: string[] = [];
    for (let i = 0; i < 30; i++) {
      const marker = `completeness-${process.pid}-${i}`;
      markers.push(marker);
      const client = await stack.client(writer);
      const failing = i % 2 === 1;
      try {
        await client.query(failing ? `SELECT 1/0 /* ${marker} */` : `SELECT 1 /* ${marker} */`);
        assert.equal(failing, false);
      } catch (error) {
        assert.equal(failing, true, String(error));
      }
      await client.end().catch(() => undefined);
    }
    const events = await recordsNaming(markers);
    markers.forEach((marker, i) => {
      const statement = statementOf(events, marker);
      assert.ok(statement, `statement ${marker} is on the record`);
      assert.equal(statement.status, i % 2 === 1 ? 'failure' : 'success', marker);
      const end = events.find((event) => event.event === 'session.end' && event.session.id === statement.session.id);
      assert.equal((end as { statements?: number } | undefined)?.statements, 1, `the end of ${marker}'s session counts it`);
    });
  });

  it('text that only looks blank (U+00A0, U+FEFF, U+2028) is decided like any other; only what PostgreSQL reads as empty runs undecided, and is not recorded', async () => {
    const lookBlank = ['\u00a0', ' \ufeff ', '\u2028'];
    const client = await RawClient.login(stack.port, writer);
    const decisionsBefore = (await stack.pdp.auditEvents('decisions')).length;
    for (const text of lookBlank) {
      // Refused by the PDP, which cannot parse it either (42601 or 42501: the PDP's wording, not the server's).
      client.send(msg.query(text));
      assert.match((await client.untilReady()).map(describeMessage).join(' '), /^E 42[56]01 Z I$/, JSON.stringify(text));
      client.send([msg.parse('', text), msg.bind('', ''), msg.execute(''), msg.sync()]);
      assert.match((await client.untilReady()).map(describeMessage).join(' '), /^E 42[56]01 Z I$/, JSON.stringify(text));
    }
    const decided = (await stack.pdp.auditEvents('decisions')).slice(decisionsBefore).map((record) => JSON.stringify(record));
    for (const text of lookBlank) assert.equal(decided.filter((record) => record.includes(JSON.stringify(text).slice(1, -1))).length, 2, `${JSON.stringify(text)} decided at Query and at Parse`);

    // Empty to PostgreSQL: answered EmptyQueryResponse, with no decision and no statement record.
    const marker = `after-empty-${process.pid}`;
    client.send(msg.query(' \t\r\n\f'));
    assert.deepEqual((await client.untilReady()).map(describeMessage), ['I', 'Z I']);
    client.send([msg.parse('', ''), msg.bind('', ''), msg.execute(''), msg.sync()]);
    assert.deepEqual((await client.untilReady()).map(describeMessage), ['1', '2', 'I', 'Z I']);
    client.send(msg.query(`SELECT 1 /* ${marker} */`));
    await client.untilReady();
    client.send(msg.terminate());
    const events = await recordsNaming([marker]);
    const session = statementOf(events, marker)!.session.id;
    const statements = events.filter((event) => event.event === 'session.statement' && event.session.id === session);
    assert.deepEqual(statements.map((event) => (event as { statement?: { text?: string } }).statement?.text), [`SELECT 1 /* ${marker} */`]);
    assert.ok(!stack.logs.some((line) => /refused by the PDP/.test(line)), stack.logs.join('\n'));
  });

  it('a client that disconnects while the server runs its statement still leaves the statement on the record', async () => {
    const markers: string[] = [];
    for (let i = 0; i < 5; i++) {
      const marker = `abandoned-${process.pid}-${i}`;
      markers.push(marker);
      const client = await RawClient.login(stack.port, writer);
      client.send(msg.query(`SELECT pg_catalog.count(*) FROM generate_series(1, 500000000) /* ${marker} */`));
      // Leave once the server is running it (bounded: 30 s), so the PEP had handed it over.
      await eventually(`the server runs ${marker}`, async () => (await stack.pg.sql(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%${marker} */'`)).trim() === '1', { timeoutMs: 30_000, intervalMs: 100 });
      client.destroy();
    }
    const events = await recordsNaming(markers);
    for (const marker of markers) {
      const statement = statementOf(events, marker);
      assert.ok(statement, `statement ${marker} is on the record`);
      if (statement.status === 'failure') assert.match(String(statement.error), /outcome unknown|cancel/);
    }
  });
});
