// An approval covers exactly one execution with exactly the values the approver was shown: a
// prepared statement that needs approval is decided at each Bind with its parameters, its portal
// runs once (continued only while suspended), and every Bind and Execute re-checks that the
// decision it relies on still holds (here: the subject token's expiry).
import assert from 'node:assert/strict';
import { after, before, describe as suite, it } from 'node:test';
import type pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { decodeNoticeFields } from '@portcullis/pep-postgres/testing';
import type { FramedMessage } from '@portcullis/pep-postgres/testing';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { describe, msg, RawClient } from './raw-client.ts';

const APPROVAL_ID = /approval ([0-9a-f-]{36})/;

// orders-db is production in the starter policy: every write waits for one approver.
suite('one approval, one execution, with the values the approver saw', () => {
  let stack: PepStack;
  let agent: string;
  let approver: string;

  before(async () => {
    stack = await startPepStack({ resource: 'orders-db' });
    agent = await stack.token('agent-bind', ['writer']);
    approver = await stack.consoleToken('alice', ['approver']);
  });
  after(() => stack?.close());

  const vote = async (approvalId: string, verdict: 'approve' | 'deny'): Promise<void> => {
    const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict, reason: 'test' }),
    });
    assert.equal(response.status, 200, await response.text());
  };

  /** What the approver is shown: the approval's recorded action. */
  const shownAction = async (approvalId: string): Promise<Record<string, unknown>> => {
    const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}`, { headers: { authorization: `Bearer ${approver}` } });
    const body = (await response.json()) as { approval: { action?: Record<string, unknown> } };
    assert.ok(body.approval.action, `the approval shows its action: ${JSON.stringify(body)}`);
    return body.approval.action;
  };

  const qty = async (id: number): Promise<number> => Number((await stack.pg.sql(`SELECT qty FROM orders WHERE id = ${id}`)).trim());

  /** Runs `sql` through node-postgres and returns the held approval's id once the notice names it. */
  const held = (client: pg.Client, query: pg.QueryConfig): { result: Promise<pg.QueryResult>; approvalId: Promise<string> } => {
    const approvalId = new Promise<string>((resolve) =>
      client.on('notice', function listener(notice) {
        const id = APPROVAL_ID.exec(notice.message ?? '')?.[1];
        if (id) {
          client.off('notice', listener);
          resolve(id);
        }
      }),
    );
    const result = client.query(query);
    result.catch(() => undefined);
    return { result, approvalId };
  };

  it('approves a named UPDATE once, for one id: the other ids each need their own approval, and only one row changes', async () => {
    const client = await stack.client(agent);
    const statement = (id: number): pg.QueryConfig => ({ name: 'bump-qty', text: 'UPDATE orders SET qty = 900 WHERE id = $1', values: [id] });
    const first = held(client, statement(1));
    const firstId = await first.approvalId;
    const action = await shownAction(firstId);
    assert.deepEqual(action.parameters, [{ value: '1' }], 'the approver sees the value');
    await vote(firstId, 'approve');
    assert.equal((await first.result).rowCount, 1);

    const seen = new Set([firstId]);
    for (const id of [2, 3, 1]) {
      const again = held(client, statement(id));
      const approvalId = await again.approvalId;
      assert.ok(!seen.has(approvalId), `a new approval for id ${id}`);
      seen.add(approvalId);
      assert.deepEqual((await shownAction(approvalId)).parameters, [{ value: String(id) }]);
      await vote(approvalId, 'deny');
      await assert.rejects(again.result, { code: '42501' });
    }
    assert.equal(Number((await stack.pg.sql('SELECT count(*) FROM orders WHERE qty = 900')).trim()), 1, 'one row changed');
    assert.equal(await qty(1), 900);
    await client.end();
  });

  it('shows typed and NULL values as the client bound them', async () => {
    const client = await stack.client(agent);
    const run = held(client, { text: 'UPDATE orders SET item = coalesce($2::text, item) WHERE id = $1::int', values: ['4', null] });
    const approvalId = await run.approvalId;
    assert.deepEqual((await shownAction(approvalId)).parameters, [{ value: '4' }, { value: null }]);
    await vote(approvalId, 'deny');
    await assert.rejects(run.result, { code: '42501' });
    await client.end();
  });

  async function approveNextNotice(client: RawClient, verdict: 'approve' | 'deny'): Promise<FramedMessage[]> {
    const seen: FramedMessage[] = [];
    for (;;) {
      const message = await client.next(60_000);
      seen.push(message);
      if (message.type !== 0x4e) continue;
      const id = APPROVAL_ID.exec(decodeNoticeFields(message.body).get('M') ?? '')?.[1];
      if (!id) continue;
      await vote(id, verdict);
      return seen;
    }
  }

  it('refuses a second Execute of an approved portal in a raw pipeline (and the pipeline rolls back)', async () => {
    const client = await RawClient.login(stack.port, agent);
    client.send([msg.parse('s5', 'UPDATE orders SET qty = 500 WHERE id = $1'), msg.bind('p', 's5', ['5']), msg.execute('p'), msg.execute('p'), msg.sync()]);
    const before = await approveNextNotice(client, 'approve');
    const rest = [...before, ...(await client.untilReady(60_000))].filter((message) => message.type !== 0x4e).map(describe);
    assert.deepEqual(rest, ['1', '2', 'C UPDATE 1', 'E 42501', 'Z I']);
    assert.equal(await qty(5), 5, 'the implicit transaction was rolled back by the refusal');
    client.destroy();
  });

  it('needs a new approval for a re-Bind with another value after a Sync, and runs exactly the approved one', async () => {
    const client = await RawClient.login(stack.port, agent);
    client.send([msg.parse('s6', 'UPDATE orders SET qty = 600 WHERE id = $1'), msg.bind('', 's6', ['6']), msg.execute(''), msg.sync()]);
    await approveNextNotice(client, 'approve');
    assert.deepEqual((await client.untilReady(60_000)).filter((message) => message.type !== 0x4e).map(describe).slice(-3), ['2', 'C UPDATE 1', 'Z I']);
    client.send([msg.bind('', 's6', ['7']), msg.execute(''), msg.sync()]);
    await approveNextNotice(client, 'deny');
    assert.deepEqual((await client.untilReady(60_000)).filter((message) => message.type !== 0x4e).map(describe), ['E 42501', 'Z I']);
    assert.equal(await qty(6), 600);
    assert.equal(await qty(7), 7);
    client.destroy();
  });

  it('continues an approved portal suspended by a row limit, and refuses it once it ran to completion', async () => {
    const client = await RawClient.login(stack.port, agent);
    client.send([
      msg.parse('', 'UPDATE orders SET qty = 800 WHERE id BETWEEN $1 AND $1 + 2 RETURNING id'),
      msg.bind('', '', ['11']),
      msg.execute('', 1),
      msg.execute('', 1),
      msg.execute('', 0),
      msg.sync(),
    ]);
    await approveNextNotice(client, 'approve');
    const transcript = (await client.untilReady(60_000)).filter((message) => message.type !== 0x4e).map(describe);
    assert.deepEqual(transcript.slice(-8), ['2', 'D', 's', 'D', 's', 'D', 'C UPDATE 1', 'Z I']);
    assert.equal(Number((await stack.pg.sql('SELECT count(*) FROM orders WHERE qty = 800')).trim()), 3);

    client.send([msg.parse('', 'UPDATE orders SET qty = 801 WHERE id = $1'), msg.bind('', '', ['14']), msg.execute('', 0), msg.execute('', 0), msg.sync()]);
    await approveNextNotice(client, 'approve');
    assert.deepEqual((await client.untilReady(60_000)).filter((message) => message.type !== 0x4e).map(describe).slice(-3), ['C UPDATE 1', 'E 42501', 'Z I']);
    assert.equal(await qty(14), 14, 'rolled back with the refused second execution');
    client.destroy();
  });

  it('refuses binary parameters for a statement that needs approval (no value the approver cannot read)', async () => {
    const client = await RawClient.login(stack.port, agent);
    const binaryBind = new MessageBuilder().cstring('').cstring('sb').int16(1).int16(1).int16(1).int32(4).int32(15).int16(0).build('B');
    client.send([msg.parse('sb', 'UPDATE orders SET qty = 1500 WHERE id = $1::int4'), binaryBind, msg.execute(''), msg.sync()]);
    const transcript = (await client.untilReady(60_000)).map(describe);
    assert.deepEqual(transcript, ['1', 'E 0A000', 'Z I']);
    assert.equal(await qty(15), 15);
    client.destroy();
  });
});

suite('a prepared statement does not outlive its token', () => {
  let stack: PepStack;

  before(async () => {
    // analytics-db is staging: reads and writes run without approval.
    stack = await startPepStack({ resource: 'analytics-db' });
  });
  after(() => stack?.close());

  const expiryOf = (token: string): number => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;

  it('stops a node-postgres named statement, a reused simple query and a bound portal once the token expires', async () => {
    const token = await stack.pdp.token({ sub: 'agent-short', roles: ['writer'], kind: 'agent', ttlSeconds: 4 });
    const expiresAt = expiryOf(token);
    const client = await stack.client(token);
    const raw = await RawClient.login(stack.port, token);
    const named: pg.QueryConfig = { name: 'read-order', text: 'SELECT qty FROM orders WHERE id = $1', values: [1] };
    assert.equal((await client.query(named)).rowCount, 1);
    assert.equal((await client.query('UPDATE orders SET qty = qty WHERE id = 2')).rowCount, 1);
    // A portal kept open past the token's expiry (a transaction keeps it beyond Sync).
    raw.send([msg.query('BEGIN')]);
    await raw.untilReady();
    raw.send([msg.parse('kept', 'SELECT qty FROM orders WHERE id = $1'), msg.bind('kept-portal', 'kept', ['3']), msg.sync()]);
    assert.deepEqual((await raw.untilReady()).map(describe), ['1', '2', 'Z T']);

    // Bounded poll on the clock: the statements run until the token expires and never after.
    let refused: pg.DatabaseError | undefined;
    for (let attempt = 0; attempt < 400 && !refused; attempt++) {
      const startedAt = Date.now();
      const outcome = await client.query(named).catch((error: pg.DatabaseError) => error);
      if (outcome instanceof Error) {
        refused = outcome as pg.DatabaseError;
        assert.ok(Date.now() >= expiresAt, 'refused only once the token expired');
      } else {
        assert.ok(startedAt < expiresAt, 'ran only before the token expired');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    assert.ok(refused, 'the named statement stopped running');
    assert.equal(refused.code, '28000');
    await assert.rejects(client.query('UPDATE orders SET qty = qty WHERE id = 2'), { code: '28000' }, 'the reused shape is asked about again');

    raw.send([msg.execute('kept-portal'), msg.sync()]);
    assert.deepEqual((await raw.untilReady()).map(describe), ['E 28000', 'Z E']);
    raw.destroy();
    await client.end();
  });
});
