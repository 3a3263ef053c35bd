import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

describe('/health and /metrics describe the running PDP', () => {
  let pdp: TestPdp;
  before(async () => {
    pdp = await startTestPdp();
  });
  after(() => pdp.close());

  it('health is ready with the policy revision and bundle status', async () => {
    const response = await fetch(`${pdp.url}/health`);
    assert.equal(response.status, 200);
    const health = (await response.json()) as { status: string; ready: boolean; policy_revision: string; bundle: { state: string; lastError: unknown } };
    assert.equal(health.ready, true);
    assert.equal(health.status, 'ok');
    assert.equal(health.bundle.state, 'active');
    assert.equal(health.bundle.lastError, null);
    assert.ok(health.policy_revision);
  });

  it('metrics count decisions by effect and expose latency histograms', async () => {
    const agent = await pdp.token({ sub: 'agent-m', roles: ['reader'] });
    await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'SELECT 1' } });
    await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'DROP TABLE users' } });
    const text = await (await fetch(`${pdp.url}/metrics`)).text();
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
    const portcullis = (record.unmapped as { portcullis: Record<string, unknown> }).portcullis;
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
