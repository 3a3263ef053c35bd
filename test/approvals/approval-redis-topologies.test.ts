// The approval store behind Redis Sentinel and Redis Cluster, as production runs it: the PDP's
// Sentinel and Cluster settings pass through to ioredis and approvals work end to end.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisServer } from '../support/redis-server.ts';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { deleteOrder, longPoll, requestApproval, vote } from './approval-fixtures.ts';
import { eventually } from '../support/eventually.ts';

async function approveRoundTrip(pdp: TestPdp): Promise<void> {
  const agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
  const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  const watcher = await openApprovalSocket(pdp.url, { token: alice });
  await watcher.next((m) => m.type === 'welcome');
  watcher.send({ type: 'subscribe' });
  await watcher.next((m) => m.type === 'snapshot');
  const { id } = await requestApproval(pdp, deleteOrder(agent, 101));
  await watcher.next((m) => m.type === 'event' && (m.approval as any).id === id);
  const waiting = longPoll(pdp.url, pdp.pepToken, id, 20);
  assert.equal((await vote(pdp.url, alice, id, 'approve')).status, 200);
  assert.equal((await waiting).body.approval.status, 'approved');
  const granted = await pdp.decide({ ...deleteOrder(agent, 101), approval_id: id });
  assert.equal(granted.body.effect, 'allow');
  await watcher.close();
}

describe('approvals through Redis Sentinel', () => {
  let folder: string;
  let primary: RedisServer;
  let sentinel: RedisServer;
  let pdp: TestPdp;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'portcullis-sentinel-'));
    primary = await RedisServer.start();
    const config = join(folder, 'sentinel.conf');
    writeFileSync(config, `sentinel monitor approvals 127.0.0.1 ${primary.port} 1\nsentinel down-after-milliseconds approvals 5000\n`);
    sentinel = await RedisServer.start({ configFile: config, sentinel: true });
    pdp = await startTestPdp({ PORTCULLIS_REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`, PORTCULLIS_REDIS_SENTINEL_NAME: 'approvals' });
  });
  after(async () => {
    await pdp?.close();
    await sentinel?.kill();
    await primary?.kill();
    rmSync(folder, { recursive: true, force: true });
  });

  test('the PDP finds the primary through the sentinel and approvals work end to end', async () => {
    const health = (await pdp.health()) as any;
    assert.equal(health.approvals.status, 'ok');
    await approveRoundTrip(pdp);
  });
});

describe('approvals on a Redis Cluster', () => {
  let folder: string;
  const nodes: RedisServer[] = [];
  let pdp: TestPdp;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'portcullis-cluster-'));
    for (let index = 0; index < 3; index += 1) {
      const cwd = join(folder, `node-${index}`);
      execFileSync('mkdir', ['-p', cwd]);
      nodes.push(await RedisServer.start({ cwd, extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', join(cwd, 'nodes.conf'), '--cluster-node-timeout', '5000'] }));
    }
    const redisCli = join(dirname(execFileSync('bash', ['scripts/components.sh', 'path', 'redis-server'], { encoding: 'utf8' }).trim()), 'redis-cli');
    execFileSync(redisCli, ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
    // The cluster answers once every slot is served.
    await eventually('the Redis cluster serves every slot', () => execFileSync(redisCli, ['-p', String(nodes[0]!.port), 'cluster', 'info'], { encoding: 'utf8' }).includes('cluster_state:ok'), { intervalMs: 100 });
    pdp = await startTestPdp({ PORTCULLIS_REDIS_CLUSTER_NODES: nodes.map((node) => `127.0.0.1:${node.port}`).join(',') });
  });
  after(async () => {
    await pdp?.close();
    for (const node of nodes) await node.kill();
    rmSync(folder, { recursive: true, force: true });
  });

  test('records, index and log share one slot, so the atomic writes and resume work across the cluster', async () => {
    await eventually('the PDP reports its approvals store ok', async () => ((await pdp.health()) as any).approvals.status === 'ok', { timeoutMs: 5_000, intervalMs: 100 });
    await approveRoundTrip(pdp);
  });
});
