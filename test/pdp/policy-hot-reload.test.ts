import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { eventually } from '../support/eventually.ts';

describe('a policy folder is compiled on start and on change, and a broken edit keeps the last good policy', () => {
  let pdp: TestPdp;
  let folder: string;
  let agent: string;
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'portcullis-live-policy-'));
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(folder, 'portcullis'), { recursive: true });
    pdp = await startTestPdp({ PORTCULLIS_POLICY_DIR: folder });
    agent = await pdp.token({ sub: 'agent-live', roles: ['reader'] });
  });
  after(async () => {
    await pdp.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const decide = async () =>
    (await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'SELECT 1' } })).body as {
      effect: string; policy_revision: string; reasons: { code: string }[];
    };
  const health = async () => (await pdp.health()) as {
    status: string; policy_revision: string; bundle: { lastError: { message: string } | null };
  };

  it('serves the compiled folder, then a data edit changes decisions live', async () => {
    const first = await decide();
    assert.equal(first.effect, 'allow');
    const dataFile = join(folder, 'portcullis/data.json');
    const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { resources: Record<string, unknown> };
    delete data.resources['orders-db'];
    writeFileSync(dataFile, JSON.stringify(data, null, 2));
    const changed = await eventually('the edited data to take effect', async () => {
      const decision = await decide();
      return decision.effect === 'deny' && decision;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    assert.ok(changed.reasons.some((reason) => reason.code === 'unknown-resource'));
    assert.notEqual(changed.policy_revision, first.policy_revision);
  });

  it('a syntax error is reported on /health while the last good revision keeps deciding', async () => {
    const before = await health();
    const broken = join(folder, 'portcullis/broken.rego');
    writeFileSync(broken, 'package portcullis.broken\n\nthis is not rego {{{\n');
    const failed = await eventually('the build error on /health', async () => {
      const state = await health();
      return state.bundle.lastError !== null && state;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    assert.equal(failed.status, 'degraded');
    assert.match(failed.bundle.lastError!.message, /rego_parse_error|parse error|unexpected/i);
    assert.equal(failed.policy_revision, before.policy_revision, 'the previous revision still serves');
    assert.equal((await decide()).policy_revision, before.policy_revision);

    unlinkSync(broken);
    const recovered = await eventually('recovery after the fix', async () => {
      const state = await health();
      return state.bundle.lastError === null && state;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    assert.equal(recovered.status, 'ok');
  });
});
