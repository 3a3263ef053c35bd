// `portcullis approvals` for scripts, as a person runs it: the real CLI process against a real
// PDP, approvals opened through /v1/decisions, and a PEP's long-poll waiting on the outcome.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisServer, freePort } from '../support/redis-server.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { agentToken, cliEnv, requestApproval, runApprovals, startWatch, waitForApproval } from './support/approvals-cli.ts';

describe('portcullis approvals (non-interactive)', () => {
  let pdp: TestPdp;
  let agent: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    pdp = await startTestPdp();
    agent = await agentToken(pdp);
    env = cliEnv(pdp);
  });
  after(() => pdp.close());

  it('list shows a pending request made through /v1/decisions, as a table and as JSON', async () => {
    const { id } = await requestApproval(pdp, agent, 'DELETE FROM orders WHERE id = 101');

    const table = await runApprovals(['list', '--url', pdp.url, '--as', 'alice'], env);
    assert.equal(table.code, 0, table.stderr);
    const row = table.stdout.split('\n').find((line) => line.startsWith(id.slice(0, 8)));
    assert.ok(row, `no row for ${id} in:\n${table.stdout}`);
    assert.match(row, /orders-db \(postgres, production\)/);
    assert.match(row, /agent-ops \(agent\)/);
    assert.match(row, /0\/1/);
    assert.match(row, /DELETE FROM orders WHERE id = 101/);

    const json = await runApprovals(['list', '--url', pdp.url, '--as', 'alice', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as { cursor: string; pending: { id: string; status: string; action: { sql: string }; requester: { sub: string } }[] };
    const record = listed.pending.find((entry) => entry.id === id);
    assert.ok(record, `${id} not listed`);
    assert.equal(record.status, 'pending');
    assert.equal(record.action.sql, 'DELETE FROM orders WHERE id = 101');
    assert.equal(record.requester.sub, 'agent-ops');
    assert.match(listed.cursor, /^\d+-\d+$/);
  });

  it('approve releases the PEP waiting on a long-poll, and the re-sent command is allowed once', async () => {
    const { id, decisionBody } = await requestApproval(pdp, agent, 'DELETE FROM orders WHERE id = 102');
    const waiter = waitForApproval(pdp, id);

    const approved = await runApprovals(['approve', id, '--reason', 'ticket 42', '--url', pdp.url, '--as', 'alice'], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`approved ${id.slice(0, 8)}: 1 of 1 approvals, now approved`));

    const released = await waiter;
    assert.equal(released.status, 'approved');
    assert.deepEqual(released.decisions.map(({ approver, verdict, reason }) => ({ approver, verdict, reason })), [{ approver: 'alice', verdict: 'approve', reason: 'ticket 42' }]);
    const retried = await pdp.decide({ ...decisionBody, approval_id: id });
    assert.equal(retried.body.effect, 'allow');
  });

  it('deny without a reason is refused and changes nothing; with a reason (and an id prefix) it denies', async () => {
    const { id } = await requestApproval(pdp, agent, 'DELETE FROM orders WHERE id = 103');

    for (const reason of [[], ['--reason', '   ']]) {
      const refused = await runApprovals(['deny', id, ...reason, '--url', pdp.url, '--as', 'alice'], env);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /deny needs --reason/);
    }
    assert.equal((await waitForApproval(pdp, id, 0)).status, 'pending');

    const waiter = waitForApproval(pdp, id);
    const denied = await runApprovals(['deny', id.slice(0, 8), '--reason', 'not in the change window', '--url', pdp.url, '--as', 'alice'], env);
    assert.equal(denied.code, 0, denied.stderr);
    const released = await waiter;
    assert.equal(released.status, 'denied');
    assert.equal(released.decisions[0]?.reason, 'not in the change window');
  });

  it('self-approval is refused with the PDP\'s code and message, and the request stays pending', async () => {
    const { id } = await requestApproval(pdp, agent, 'DELETE FROM orders WHERE id = 104');
    // The requester holding an approver token as well: still the same subject.
    const refused = await runApprovals(['approve', id, '--url', pdp.url, '--as', 'agent-ops'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused \(self-approval\): /);
    assert.equal((await waitForApproval(pdp, id, 0)).status, 'pending');
  });

  it('a second approve is refused as not-pending; history lists the resolved request', async () => {
    const { id } = await requestApproval(pdp, agent, 'DELETE FROM orders WHERE id = 105');
    assert.equal((await runApprovals(['approve', id, '--url', pdp.url, '--as', 'alice'], env)).code, 0);
    const again = await runApprovals(['approve', id, '--url', pdp.url, '--as', 'bob'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refused \(not-pending\)/);

    const history = await runApprovals(['history', '--json', '--url', pdp.url, '--as', 'bob'], env);
    assert.equal(history.code, 0, history.stderr);
    const resolved = (JSON.parse(history.stdout) as { resolved: { id: string; status: string }[] }).resolved;
    assert.equal(resolved.find((record) => record.id === id)?.status, 'approved');
  });

  it('credentials: a token file works; a token without an approvals role and --as without a dev issuer are refused', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
    try {
      const approverFile = join(folder, 'approver.jwt');
      writeFileSync(approverFile, `${await pdp.consoleToken({ sub: 'carol', roles: ['approver'], kind: 'human' })}\n`, { mode: 0o600 });
      const withFile = await runApprovals(['list', '--url', pdp.url, '--token-file', approverFile], env);
      assert.equal(withFile.code, 0, withFile.stderr);

      const readerFile = join(folder, 'reader.jwt');
      writeFileSync(readerFile, await pdp.token({ sub: 'dave', roles: ['reader'], kind: 'human' }), { mode: 0o600 });
      const noRole = await runApprovals(['list', '--url', pdp.url, '--token-file', readerFile], env);
      assert.equal(noRole.code, 1);
      assert.match(noRole.stderr, /no role for approvals/);

      const noIssuer = await runApprovals(['list', '--url', pdp.url, '--as', 'alice'], cliEnv({ stateDir: folder }));
      assert.equal(noIssuer.code, 2);
      assert.match(noIssuer.stderr, /--as works only with the local dev issuer/);

      const none = await runApprovals(['list', '--url', pdp.url], env);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no credential/);

      const viaEnv = await runApprovals(['list', '--url', pdp.url], cliEnv(pdp, { PORTCULLIS_TOKEN: await pdp.consoleToken({ sub: 'erin', roles: ['approver'], kind: 'human' }) }));
      assert.equal(viaEnv.code, 0, viaEnv.stderr);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('the live console refuses to start without a terminal and points to the script commands', async () => {
    const result = await runApprovals(['--url', pdp.url, '--as', 'alice'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /the console needs a terminal; in scripts use list, approve, deny, history or watch/);
  });

  it('watch --json prints the snapshot, then requested and resolved events, one JSON object per line', async () => {
    const watch = startWatch(['--json', '--url', pdp.url, '--as', 'alice'], env);
    try {
      await watch.line((line) => JSON.parse(line).type === 'snapshot');
      const { id } = await requestApproval(pdp, agent, 'DELETE FROM orders WHERE id = 106');
      const requested = JSON.parse(await watch.line((line) => line.includes(id) && JSON.parse(line).event === 'requested')) as { type: string; id: string; approval: { status: string } };
      assert.equal(requested.type, 'event');
      assert.equal(requested.approval.status, 'pending');
      assert.match(requested.id, /^\d+-\d+$/);

      assert.equal((await runApprovals(['deny', id, '--reason', 'no', '--url', pdp.url, '--as', 'bob'], env)).code, 0);
      const resolved = JSON.parse(await watch.line((line) => line.includes(id) && JSON.parse(line).event === 'resolved')) as { approval: { status: string } };
      assert.equal(resolved.approval.status, 'denied');
      for (const line of watch.stdout().trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), `not one JSON object: ${line}`);
    } finally {
      assert.equal(await watch.stop(), 0);
    }
  });
});

describe('portcullis approvals watch across a reconnect (two PDP replicas sharing Redis)', () => {
  let redis: RedisServer;
  let stateDir: string;
  let port: number;
  let first: TestPdp | undefined;
  let second: TestPdp | undefined;

  before(async () => {
    redis = await RedisServer.start();
    stateDir = mkdtempSync(join(tmpdir(), 'portcullis-cli-replicas-'));
    port = await freePort();
  });
  after(async () => {
    await first?.close({ keepState: true });
    await second?.close({ keepState: true });
    await redis.kill();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** Replicas share Redis and the dev issuer's keys; each keeps its own audit files. */
  const replica = (name: string, extra: Record<string, string> = {}): Promise<TestPdp> =>
    startTestPdp({ PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_AUDIT_DIR: join(stateDir, `audit-${name}`), PORTCULLIS_REDIS_URL: redis.url, ...extra });

  it('resumes from the last event it saw: what happened while it was away arrives once, nothing repeats', async () => {
    first = await replica('a', { PORTCULLIS_PORT: String(port) });
    second = await replica('b');
    const agent = await agentToken(first);
    const env = cliEnv(first);
    const watch = startWatch(['--json', '--url', first.url, '--as', 'alice'], env);
    try {
      await watch.line((line) => JSON.parse(line).type === 'snapshot');
      const before = await requestApproval(first, agent, 'DELETE FROM orders WHERE id = 201');
      await watch.line((line) => line.includes(before.id));

      // The replica the console is connected to goes away; work goes on through the other one.
      await first.close({ keepState: true });
      first = undefined;
      await watch.stderrIncludes('reconnecting');
      const during = await requestApproval(second, agent, 'DELETE FROM orders WHERE id = 202');
      const voted = await fetch(`${second.url}/v1/approvals/${before.id}/votes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await second.consoleToken({ sub: 'bob', roles: ['approver'], kind: 'human' })}` },
        body: JSON.stringify({ verdict: 'approve', reason: 'while the console was away' }),
      });
      assert.equal(voted.status, 200);

      first = await replica('a', { PORTCULLIS_PORT: String(port) });
      await watch.stderrIncludes('resumed after event');
      await watch.line((line) => line.includes(during.id));
      await watch.line((line) => line.includes(before.id) && JSON.parse(line).event === 'resolved');

      const lines = watch.stdout().trim().split('\n').map((line) => JSON.parse(line) as { type: string; id?: string; event?: string; approval?: { id: string } });
      assert.equal(lines.filter((line) => line.type === 'snapshot').length, 1, 'resumed, not resynchronised');
      const eventIds = lines.filter((line) => line.type === 'event').map((line) => line.id);
      assert.equal(new Set(eventIds).size, eventIds.length, 'no event delivered twice');
      assert.deepEqual(
        lines.filter((line) => line.type === 'event' && (line.approval?.id === before.id || line.approval?.id === during.id)).map((line) => `${line.approval!.id === before.id ? 'before' : 'during'}:${line.event}`),
        ['before:requested', 'during:requested', 'before:resolved'],
      );
    } finally {
      assert.equal(await watch.stop(), 0);
    }
  });
});
