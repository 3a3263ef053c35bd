import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { auditBodyOf } from '@portcullis/pdp';

describe('/health and /metrics describe the running PDP', () => {
  let pdp: TestPdp;
  before(async () => {
    pdp = await startTestPdp();
  });
  after(() => pdp.close());

  it('health without a credential says ready and nothing more', async () => {
    const response = await fetch(`${pdp.url}/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ready', ready: true });
  });

  it('health shows its detail to a monitor (an API token or a console session with role monitor or auditor)', async () => {
    for (const token of [
      await pdp.token({ sub: 'prometheus', roles: ['monitor'] }),
      await pdp.consoleToken({ sub: 'carol', roles: ['auditor'], kind: 'human' }),
    ]) {
      const response = await fetch(`${pdp.url}/health`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200);
      const health = (await response.json()) as { status: string; ready: boolean; policy_revision: string; bundle: { state: string; lastError: unknown }; audit: unknown };
      assert.equal(health.ready, true);
      assert.equal(health.status, 'ok');
      assert.equal(health.bundle.state, 'active');
      assert.equal(health.bundle.lastError, null);
      assert.ok(health.policy_revision);
      assert.ok(health.audit);
    }
  });

  it('health detail and metrics refuse a credential without a monitor role, or a bad one', async () => {
    const agent = await pdp.token({ sub: 'agent-nosy', roles: ['reader', 'writer', 'pep'] });
    const approver = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    for (const path of ['/health', '/metrics']) {
      for (const token of [agent, approver]) {
        const response = await fetch(`${pdp.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(response.status, 403, `${path} with roles that do not monitor`);
        assert.doesNotMatch(await response.text(), /portcullis_|policy_revision/);
      }
      const forged = await fetch(`${pdp.url}${path}`, { headers: { authorization: `Bearer ${agent.slice(0, -4)}AAAA` } });
      assert.equal(forged.status, 401, `${path} with a forged token`);
    }
    const anonymous = await fetch(`${pdp.url}/metrics`);
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(await anonymous.text(), /portcullis_/);
  });

  it('metrics count decisions by effect and expose latency histograms, to a monitor', async () => {
    const agent = await pdp.token({ sub: 'agent-m', roles: ['reader'] });
    await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'SELECT 1' } });
    await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'DROP TABLE users' } });
    const text = await pdp.metrics();
    assert.match(text, /portcullis_decisions_total\{effect="allow",action_type="sql"\} 1/);
    assert.match(text, /portcullis_decisions_total\{effect="deny",action_type="sql"\} 1/);
    assert.match(text, /portcullis_decision_duration_seconds_bucket/);
    assert.match(text, /portcullis_policy_eval_duration_seconds_count [1-9]/);
    assert.match(text, /portcullis_bundle_healthy 1/);
  });

  it('every decision lands in the audit trail with principal, PEP, policy revision, and no token', async () => {
    const agent = await pdp.token({ sub: 'agent-audit', roles: ['reader'] });
    const { body } = await pdp.decide({
      subject_token: agent,
      resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
      action: { type: 'sql', sql: 'SELECT email FROM users' },
      session: { id: 'session-audit-1', client_addr: '127.0.0.1' },
    });
    const events = await pdp.auditEvents();
    const record = events.find((candidate) => (candidate.metadata as { uid: string }).uid === body.decision_id);
    assert.ok(record, 'the decision is in the audit trail');
    // OCSF: Datastore Activity for SQL, the agent as a service account, the statement as run.
    assert.equal(record.class_uid, 6005);
    assert.equal(record.type_uid, 600500 + (record.activity_id as number));
    assert.equal((record.actor as { user: { uid: string; type_id: number } }).user.uid, 'agent-audit');
    assert.equal((record.actor as { user: { type_id: number } }).user.type_id, 4);
    const portcullis = auditBodyOf(record) as Record<string, unknown>;
    assert.equal((portcullis.pep as { sub: string }).sub, 'pep-test');
    assert.equal(portcullis.effect, body.effect);
    assert.equal(portcullis.policy_revision, body.policy_revision);
    assert.equal((portcullis.action as { statements: unknown[] }).statements.length, 1);
    const chain = portcullis.chain as { seq: number; producer_id: string; hash: string };
    assert.ok(Number.isInteger(chain.seq) && chain.hash.startsWith('sha256:'));
    const raw = JSON.stringify(events);
    assert.equal(raw.includes(agent), false, 'the subject token never reaches the audit trail');
    assert.equal(raw.includes(pdp.pepToken), false, 'the PEP token never reaches the audit trail');
  });
});

describe('/health and /metrics opened by configuration', () => {
  let pdp: TestPdp;
  before(async () => {
    pdp = await startTestPdp({ PORTCULLIS_METRICS_AUTH: 'false', PORTCULLIS_HEALTH_DETAIL_AUTH: 'false' });
  });
  after(() => pdp.close());

  it('serve metrics and health detail without a credential when told to', async () => {
    const health = (await (await fetch(`${pdp.url}/health`)).json()) as { status: string; bundle: { state: string } };
    assert.equal(health.status, 'ok');
    assert.equal(health.bundle.state, 'active');
    const metrics = await fetch(`${pdp.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /portcullis_bundle_healthy 1/);
  });
});

describe('/health of a PDP with no policy loaded', () => {
  let pdp: TestPdp;
  before(async () => {
    pdp = await startTestPdp({ PORTCULLIS_BUNDLE_FILE: '/nonexistent/portcullis-bundle.tar.gz' });
  });
  after(() => pdp.close());

  it('answers 503 not ready without a credential, and says why only to a monitor', async () => {
    const anonymous = await fetch(`${pdp.url}/health`);
    assert.equal(anonymous.status, 503);
    assert.deepEqual(await anonymous.json(), { status: 'unavailable', ready: false });
    const detail = (await pdp.health()) as { status: string; policy_revision: string | null; bundle: unknown; audit: unknown };
    assert.equal(detail.status, 'unavailable');
    assert.equal(detail.policy_revision, null);
    assert.ok(detail.bundle && detail.audit, 'the monitor sees the bundle and audit state');
  });
});
