import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../../test/support/eventually.ts';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { sessionEventBodies } from '../../../test/support/session-records.ts';
import { ORDERS_DB } from './support/decision-requests.ts';
import { deadPort } from './support/fault-servers.ts';
import { LineClient, startLinePep, type LinePep } from './support/line-protocol-pep.ts';

// web-1 is an SSH resource in production in the starter policy: readers may look, a writer's
// change waits for one approver, and nothing else runs.
const WEB_1 = { type: 'ssh', name: 'web-1', environment: 'production' } as const;

describe('the command gate, under a line-protocol PEP written on the SDK, against a real PDP', () => {
  let pdp: TestPdp;
  let shell: LinePep;
  let reader: string;
  let writer: string;
  let approver: string;

  before(async () => {
    pdp = await startTestPdp();
    shell = await startLinePep({ pdpUrl: pdp.url, pepToken: pdp.pepToken, resource: WEB_1, actionType: 'shell', approvalWaitMs: 60_000 });
    reader = await pdp.token({ sub: 'agent:reporting', roles: ['reader'] });
    writer = await pdp.token({ sub: 'agent:deployer', roles: ['reader', 'writer'] });
    approver = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  });
  after(async () => {
    await shell?.close();
    await pdp?.close();
  });

  const vote = async (approvalId: string, verdict: 'approve' | 'deny'): Promise<void> => {
    const response = await fetch(`${pdp.url}/v1/approvals/${approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict, reason: 'ticket 7' }),
    });
    assert.equal(response.status, 200, await response.text());
  };

  const sessionRecords = async (sessionId: string): Promise<Record<string, any>[]> =>
    sessionEventBodies(await pdp.auditEvents('sessions')).filter((body) => body.session.id === sessionId) as Record<string, any>[];

  it('runs an allowed command and records it under its decision', async () => {
    const { client, sessionId } = await LineClient.connect(shell.port, reader);
    const { answer } = await client.command('ls -l /var/log');
    assert.equal(answer, 'OK ran ls -l /var/log');
    assert.ok(shell.ran.includes('ls -l /var/log'));
    client.close();

    const records = await eventually('the session start, the command and the end are on the record', async () => {
      const bodies = await sessionRecords(sessionId);
      return bodies.some((body) => body.event === 'session.end') ? bodies : undefined;
    });
    assert.deepEqual(records.map((body) => body.event), ['session.start', 'session.statement', 'session.end']);
    const statement = records[1]!;
    assert.equal(statement.statement.text, 'ls -l /var/log');
    assert.equal(statement.status, 'success');
    assert.equal(statement.bytes, Buffer.byteLength('OK ran ls -l /var/log'));
    assert.equal(typeof statement.decision_id, 'string');
    assert.notEqual(statement.decision_id, '');
    assert.equal(records[2]!.statements, 1);
  });

  it('refuses a denied command in its own words, and it never reaches the resource nor the session record', async () => {
    const { client, sessionId } = await LineClient.connect(shell.port, reader);
    const { answer } = await client.command('rm -rf /var/log/app');
    assert.match(answer, /^ERR denied \S+ portcullis: denied by policy/);
    assert.ok(!shell.ran.includes('rm -rf /var/log/app'));
    // The session goes on.
    assert.equal((await client.command('uptime')).answer, 'OK ran uptime');
    client.close();
    const records = await eventually('the session end is on the record', async () => {
      const bodies = await sessionRecords(sessionId);
      return bodies.some((body) => body.event === 'session.end') ? bodies : undefined;
    });
    assert.deepEqual(records.filter((body) => body.event === 'session.statement').map((body) => body.statement.text), ['uptime']);
  });

  it('holds a change for approval with a hint that names the approval and says a re-run works, then runs it once approved', async () => {
    const { client } = await LineClient.connect(shell.port, writer);
    client.send('rm /tmp/report-1.txt');
    const hint = await client.next();
    assert.match(hint, /^# portcullis: approval required/);
    assert.match(hint, /run the same command again once it is approved/);
    const approvalId = /approval ([0-9a-f-]{36})/.exec(hint)?.[1];
    assert.ok(approvalId, hint);
    assert.ok(!shell.ran.includes('rm /tmp/report-1.txt'), 'nothing runs while held');
    await vote(approvalId, 'approve');
    assert.equal(await client.next(), 'OK ran rm /tmp/report-1.txt');
    client.close();
  });

  it('refuses a held change an approver denies, with the approver\'s reason', async () => {
    const { client } = await LineClient.connect(shell.port, writer);
    client.send('rm /tmp/report-2.txt');
    const approvalId = /approval ([0-9a-f-]{36})/.exec(await client.next())?.[1];
    assert.ok(approvalId);
    await vote(approvalId, 'deny');
    assert.match(await client.next(), /^ERR approval-refused approval-denied .*ticket 7/);
    assert.ok(!shell.ran.includes('rm /tmp/report-2.txt'));
    client.close();
  });

  describe('a client that cannot wait for approval', () => {
    it('is told to run the command again once approved; the re-run is decided afresh and runs, once', async () => {
      const { client } = await LineClient.connect(shell.port, writer);
      const held = await client.command('NOWAIT rm /tmp/report-3.txt');
      assert.equal(held.hints.length, 1);
      assert.match(held.hints[0]!, /waiting up to 0 s/);
      assert.match(held.answer, /^ERR approval-pending approval-timeout .* HINT Run the same command again once approval [0-9a-f-]{36} is granted; it then runs once\.$/);
      const approvalId = /approval ([0-9a-f-]{36}) is granted/.exec(held.answer)?.[1];
      assert.ok(approvalId);
      assert.ok(!shell.ran.includes('rm /tmp/report-3.txt'));

      await vote(approvalId, 'approve');
      // Another connection, as a client that gave up and came back: the PDP finds the approval by its binding.
      const again = await LineClient.connect(shell.port, writer);
      assert.deepEqual(await again.client.command('NOWAIT rm /tmp/report-3.txt'), { answer: 'OK ran rm /tmp/report-3.txt', hints: [] });
      assert.equal(shell.ran.filter((line) => line === 'rm /tmp/report-3.txt').length, 1);
      // Once: the approval was consumed, so a third run is held again.
      const third = await again.client.command('NOWAIT rm /tmp/report-3.txt');
      assert.match(third.answer, /^ERR approval-pending /);
      assert.equal(shell.ran.filter((line) => line === 'rm /tmp/report-3.txt').length, 1);
      client.close();
      again.client.close();
    });
  });

  describe('a PEP whose protocol has nothing to mask in', () => {
    let database: LinePep;
    before(async () => {
      database = await startLinePep({ pdpUrl: pdp.url, pepToken: pdp.pepToken, resource: ORDERS_DB, actionType: 'sql', approvalWaitMs: 0 });
    });
    after(() => database?.close());

    it('refuses an allow that comes with mask obligations (fail closed), and runs what needs none', async () => {
      const { client } = await LineClient.connect(database.port, reader);
      const masked = await client.command('SELECT email FROM users');
      assert.match(masked.answer, /^ERR denied masking-unavailable /);
      assert.ok(!database.ran.includes('SELECT email FROM users'));
      assert.equal((await client.command('SELECT id FROM orders')).answer, 'OK ran SELECT id FROM orders');
      client.close();
    });

    it('fails closed on an answer naming a mask kind the PEP does not enforce (a byte-stream PEP meets SQL column masks)', async () => {
      const streams = await startLinePep({ pdpUrl: pdp.url, pepToken: pdp.pepToken, resource: ORDERS_DB, actionType: 'sql', approvalWaitMs: 0, maskKinds: ['byte-stream'] });
      try {
        const { client } = await LineClient.connect(streams.port, reader);
        assert.match((await client.command('SELECT email FROM users')).answer, /^ERR unavailable pdp-bad-answer /);
        assert.equal((await client.command('SELECT id FROM orders')).answer, 'OK ran SELECT id FROM orders');
        assert.deepEqual(streams.ran, ['SELECT id FROM orders']);
        client.close();
      } finally {
        await streams.close();
      }
    });
  });

  describe('a PDP out of reach', () => {
    let orphan: LinePep;
    before(async () => {
      // Its session records have nowhere to go either: closing does not wait for them.
      orphan = await startLinePep({ pdpUrl: `http://127.0.0.1:${await deadPort()}`, pepToken: pdp.pepToken, resource: WEB_1, actionType: 'shell', approvalWaitMs: 0, shutdownGraceMs: 0 });
    });
    after(() => orphan?.close());

    it('fails closed: nothing runs, and the caller is told no decision could be had', async () => {
      const { client } = await LineClient.connect(orphan.port, reader);
      const { answer } = await client.command('ls /');
      assert.match(answer, /^ERR unavailable pdp-unreachable portcullis: no policy decision could be had/);
      assert.deepEqual(orphan.ran, []);
      client.close();
    });
  });

  it('reports its health, and on close tells every open session and waits for it to end', async () => {
    const pep = await startLinePep({ pdpUrl: pdp.url, pepToken: pdp.pepToken, resource: WEB_1, actionType: 'shell', approvalWaitMs: 0 });
    const { client } = await LineClient.connect(pep.port, reader);
    assert.equal(pep.server.sessionCount, 1);
    assert.equal(pep.pdp.health().recording, true);
    await pep.close();
    assert.equal(await client.next(), 'BYE the PEP is shutting down');
    assert.equal(pep.server.sessionCount, 0);
  });
});
