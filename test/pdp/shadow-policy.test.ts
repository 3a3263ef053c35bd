// Shadow mode through the real PDP (JSONL audit): a candidate bundle evaluated beside the live
// starter bundle on every decision. A known change shows exactly its decisions as differences
// (shadow stream, metrics, GET /v1/policy) and the trail still verifies with the shadow stream
// in it; an identical candidate shows none; a candidate that cannot load, or that throws when
// evaluated, never changes a live answer.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditCli } from '../support/audit-cli.ts';
import { eventually } from '../support/eventually.ts';
import { ensureStarterBundle, installedOpa, startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { candidateThatThrowsOnSql, starterPackWithData } from '../support/shadow-candidates.ts';
import { auditBodyOf } from '@portcullis/pdp';

type Json = Record<string, any>;

const ORDERS = { type: 'postgres', name: 'orders-db', environment: 'production' };
const ANALYTICS = { type: 'postgres', name: 'analytics-db', environment: 'staging' };
const STATEMENTS = ['SELECT 1', 'SELECT id FROM orders', 'SELECT count(*) FROM orders'];

async function policyView(pdp: TestPdp): Promise<Json> {
  const token = await pdp.token({ sub: 'monitor-shadow', roles: ['monitor'] });
  const response = await fetch(`${pdp.url}/v1/policy`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as Json;
}

function metricValue(metrics: string, name: string, labels: string): number {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = metrics.split('\n').find((entry) => entry.startsWith(prefix));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

async function shadowActive(pdp: TestPdp): Promise<Json> {
  return eventually('the shadow candidate to be active', async () => {
    const view = await policyView(pdp);
    return view.shadow?.bundle.state === 'active' && view.shadow.bundle.revision !== null && view;
  }, { timeoutMs: 120_000, intervalMs: 200 });
}

/** The same decisions on both resources; returns each answer's effect and reason codes. */
async function decideAll(pdp: TestPdp): Promise<Array<{ resource: string; sql: string; effect: string; reasons: string[]; id: string }>> {
  const agent = await pdp.token({ sub: 'agent-shadow', roles: ['reader'] });
  const answers = [];
  for (const resource of [ORDERS, ANALYTICS]) {
    for (const sql of STATEMENTS) {
      const { status, body } = await pdp.decide({ subject_token: agent, resource, action: { type: 'sql', sql } });
      assert.equal(status, 200);
      answers.push({ resource: resource.name, sql, effect: body.effect as string, reasons: (body.reasons as Json[]).map((reason) => reason.code as string), id: body.decision_id as string });
    }
  }
  return answers;
}

describe('shadow policy: differences of a candidate, recorded and counted, never in the answer', () => {
  const folders: string[] = [];
  after(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  let baseline: Awaited<ReturnType<typeof decideAll>>;
  before(async () => {
    const pdp = await startTestPdp();
    try {
      baseline = await decideAll(pdp);
    } finally {
      await pdp.close();
    }
    assert.ok(baseline.every((answer) => answer.effect === 'allow'), 'the starter pack allows a reader these reads on both databases');
  });

  it('a candidate that forgets analytics-db: exactly its decisions differ, on the shadow stream, in metrics and on /v1/policy; the trail verifies', async () => {
    const candidate = starterPackWithData((data) => delete data.resources['analytics-db']);
    folders.push(candidate);
    const pdp = await startTestPdp({ PORTCULLIS_SHADOW_POLICY_DIR: candidate, PORTCULLIS_OPA_PATH: installedOpa(), PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    let closed = false;
    try {
      const before = await shadowActive(pdp);
      assert.equal(before.live.revision, (await pdp.health()).policy_revision);
      assert.notEqual(before.shadow.bundle.revision, before.live.revision);
      assert.match(before.impact_command, new RegExp(`^portcullis policy impact --bundle ${candidate.replaceAll('/', '\\/')} --from \\S+ --format html --out impact.html$`));

      const answers = await decideAll(pdp);
      assert.deepEqual(answers.map(({ effect, reasons }) => ({ effect, reasons })), baseline.map(({ effect, reasons }) => ({ effect, reasons })), 'live answers are what they are without a shadow');

      const changed = answers.filter((answer) => answer.resource === 'analytics-db');
      const metrics = await eventually('every decision evaluated by the shadow', async () => {
        const text = await pdp.metrics();
        return metricValue(text, 'portcullis_shadow_evaluations_total', 'result="same"') + metricValue(text, 'portcullis_shadow_evaluations_total', 'result="different"') === answers.length && text;
      }, { timeoutMs: 30_000 });
      assert.equal(metricValue(metrics, 'portcullis_shadow_evaluations_total', 'result="different"'), changed.length);
      assert.equal(metricValue(metrics, 'portcullis_shadow_evaluations_total', 'result="failed"'), 0);
      assert.equal(metricValue(metrics, 'portcullis_shadow_bundle_active', `revision="${before.shadow.bundle.revision}"`), 1);

      const records = await eventually('the differences on the shadow stream', async () => {
        const stored = await pdp.auditEvents('shadow');
        return stored.length === changed.length && stored;
      });
      const fields = records.map((record) => auditBodyOf(record) as Json);
      assert.deepEqual(fields.map((field) => field.decision_id).sort(), changed.map((answer) => answer.id).sort(), 'the differing decisions, each once');
      for (const field of fields) {
        assert.equal(field.event, 'shadow.difference');
        assert.deepEqual(field.changes, ['effect', 'reasons']);
        assert.deepEqual(field.live, { revision: before.live.revision, effect: 'allow' });
        assert.equal(field.shadow.revision, before.shadow.bundle.revision);
        assert.equal(field.shadow.effect, 'deny');
        assert.ok((field.shadow.reasons as Json[]).some((reason) => reason.code === 'unknown-resource'));
        assert.deepEqual(field.resource, { type: 'postgres', name: 'analytics-db' });
        assert.deepEqual(field.principal, { sub: 'agent-shadow' });
        assert.equal(field.chain.stream, 'shadow');
        assert.equal(field.action, undefined, 'the action stays in the decision record only');
      }
      for (const record of records) assert.equal((record.metadata as Json).log_name, 'portcullis.shadow.v1');

      const view = await policyView(pdp);
      assert.equal(view.shadow.evaluations.different, changed.length);
      assert.equal(view.shadow.evaluations.same, answers.length - changed.length);
      assert.deepEqual(view.differences.map((difference: Json) => difference.decision_id).sort(), changed.map((answer) => answer.id).sort());
      const newest = view.differences[0];
      assert.deepEqual(newest.live.reasons, changed.find((answer) => answer.id === newest.decision_id)!.reasons, 'the live reasons, by code');
      assert.ok(view.differences[0].shadow.reasons.includes('unknown-resource'));

      await pdp.close({ keepState: true });
      closed = true;
      const verified = await auditCli(pdp.stateDir, 'verify');
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      const tail = await auditCli(pdp.stateDir, 'tail', '--stream', 'shadow');
      assert.equal(tail.code, 0, tail.stderr);
      assert.equal(tail.stdout.trim().split('\n').length, changed.length);
      assert.match(tail.stdout, /would answer deny where .* answered allow: sql on analytics-db for agent-shadow \[effect, reasons\]/);
    } finally {
      if (!closed) await pdp.close();
      rmSync(pdp.stateDir, { recursive: true, force: true });
    }
  });

  it('an identical candidate shows no difference', async () => {
    const pdp = await startTestPdp({ PORTCULLIS_SHADOW_BUNDLE_FILE: ensureStarterBundle() });
    try {
      const view = await shadowActive(pdp);
      assert.equal(view.shadow.bundle.revision, view.live.revision);
      const answers = await decideAll(pdp);
      const metrics = await eventually('every decision evaluated by the shadow', async () => {
        const text = await pdp.metrics();
        return metricValue(text, 'portcullis_shadow_evaluations_total', 'result="same"') === answers.length && text;
      }, { timeoutMs: 30_000 });
      assert.equal(metricValue(metrics, 'portcullis_shadow_evaluations_total', 'result="different"'), 0);
      assert.deepEqual(await pdp.auditEvents('shadow'), []);
      assert.deepEqual((await policyView(pdp)).differences, []);
    } finally {
      await pdp.close();
    }
  });

  it('a candidate that cannot load changes no answer: the shadow reports failed, decisions are dropped and counted', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'portcullis-candidate-broken-'));
    folders.push(folder);
    const broken = join(folder, 'broken.tar.gz');
    writeFileSync(broken, 'this is not a bundle');
    const pdp = await startTestPdp({ PORTCULLIS_SHADOW_BUNDLE_FILE: broken });
    try {
      const view = await eventually('the shadow to report its failure', async () => {
        const current = await policyView(pdp);
        return current.shadow.bundle.state === 'failed' && current;
      }, { timeoutMs: 30_000 });
      assert.match(view.shadow.bundle.lastError.message, /not a readable tar\.gz/);
      assert.equal((await pdp.health()).status, 'ok', 'the live policy is healthy');
      const answers = await decideAll(pdp);
      assert.deepEqual(answers.map(({ effect, reasons }) => ({ effect, reasons })), baseline.map(({ effect, reasons }) => ({ effect, reasons })));
      const metrics = await pdp.metrics();
      assert.equal(metricValue(metrics, 'portcullis_shadow_dropped_total', 'reason="not-loaded"'), answers.length);
      assert.equal(metricValue(metrics, 'portcullis_shadow_bundle_healthy', ''), 0);
    } finally {
      await pdp.close();
    }
  });

  it('a candidate that throws on evaluation changes no answer: failures counted, nothing recorded', async () => {
    const candidate = candidateThatThrowsOnSql();
    folders.push(candidate);
    const pdp = await startTestPdp({ PORTCULLIS_SHADOW_POLICY_DIR: candidate, PORTCULLIS_OPA_PATH: installedOpa() });
    try {
      await shadowActive(pdp);
      const answers = await decideAll(pdp);
      assert.deepEqual(answers.map(({ effect, reasons }) => ({ effect, reasons })), baseline.map(({ effect, reasons }) => ({ effect, reasons })));
      await eventually('every evaluation to have failed', async () => {
        const text = await pdp.metrics();
        return metricValue(text, 'portcullis_shadow_evaluations_total', 'result="failed"') === answers.length;
      }, { timeoutMs: 30_000 });
      const view = await policyView(pdp);
      assert.match(view.shadow.last_evaluation_error.message, /conflict/i);
      assert.deepEqual(await pdp.auditEvents('shadow'), []);
      assert.ok(pdp.logs.some((line) => line.startsWith('shadow: evaluation failed')));
    } finally {
      await pdp.close();
    }
  });
});
