// POST /v1/sql/outputs against a real PDP: the output provenance of one SELECT for a PEP (the
// Postgres PEP asks it about view definitions), behind the PEP's bearer token, with no decision
// and no audit record.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { auditBodyOf } from '@portcullis/pdp';

describe('POST /v1/sql/outputs: output provenance of one SELECT, for PEPs', () => {
  let pdp: TestPdp;
  let agent: string;
  before(async () => {
    pdp = await startTestPdp({ PORTCULLIS_MAX_BODY_BYTES: '65536' });
    agent = await pdp.token({ sub: 'agent-1', roles: ['reader'] });
  });
  after(() => pdp.close());

  const post = (body: unknown, token = pdp.pepToken) =>
    fetch(`${pdp.url}/v1/sql/outputs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it("answers a view definition's columns with what each is computed from, and the functions it calls", async () => {
    const response = await post({ sql: 'SELECT v.name AS who, upper(v.email) AS mail, u.phone, now() AS at FROM public.users_view v JOIN public.users u USING (id)' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { outputs: Array<Record<string, unknown>>; functions: string[] };
    assert.deepEqual(body.outputs.map((output) => [output.name, output.derived_from]), [
      ['who', [{ table: 'users_view', column: 'name' }]],
      ['mail', [{ table: 'users_view', column: 'email' }]],
      ['phone', [{ table: 'users', column: 'phone' }]],
      ['at', []],
    ]);
    assert.deepEqual(body.outputs[2], { name: 'phone', star: false, star_table: null, direct: { table: 'users', column: 'phone' }, is_value: true, derived_from: [{ table: 'users', column: 'phone' }] });
    assert.deepEqual([...body.functions].sort(), ['now', 'upper']);
  });

  it('refuses with 400 invalid-request anything but exactly one row-returning SELECT', async () => {
    for (const sql of [
      'SELECT 1; SELECT 2',
      'DELETE FROM users',
      'UPDATE users SET name = name RETURNING email',
      'SELECT email INTO copied FROM users',
      'DECLARE c CURSOR FOR SELECT email FROM users',
      'SELEC email FROM users',
      '',
      '   ',
    ]) {
      const response = await post({ sql });
      assert.equal(response.status, 400, `status for ${JSON.stringify(sql)}`);
      const error = (await response.json()) as { code: string; message: string; details: { field: string } };
      assert.equal(error.code, 'invalid-request');
      assert.equal(error.details.field, 'sql');
    }
    for (const body of [{}, { sql: 42 }, [1], { query: 'SELECT 1' }]) {
      const response = await post(body);
      assert.equal(response.status, 400, `status for ${JSON.stringify(body)}`);
    }
  });

  it('bounds the body like decisions: an oversized one is 413', async () => {
    const oversized = await post({ sql: `SELECT '${'x'.repeat(70_000)}'` });
    assert.equal(oversized.status, 413);
    assert.equal(((await oversized.json()) as { code: string }).code, 'payload-too-large');
  });

  it('takes the PEP role only, and other methods get 405', async () => {
    assert.equal((await post({ sql: 'SELECT 1' }, '')).status, 401);
    assert.equal((await post({ sql: 'SELECT 1' }, `${pdp.pepToken.slice(0, -4)}AAAA`)).status, 401);
    const agentAsPep = await post({ sql: 'SELECT 1' }, agent);
    assert.equal(agentAsPep.status, 403);
    assert.equal(((await agentAsPep.json()) as { code: string }).code, 'forbidden');
    const get = await fetch(`${pdp.url}/v1/sql/outputs`, { headers: { authorization: `Bearer ${pdp.pepToken}` } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });

  it('is no decision: nothing reaches the audit trail', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await post({ sql: `SELECT email, ${i} FROM users` })).status, 200);
    // The decisions stream holds only the bundle's activation, written when the PDP started.
    const isActivation = (record: Record<string, unknown>): boolean => auditBodyOf(record)?.event === 'bundle.activated';
    for (const stream of ['decisions', 'sessions', 'approvals']) assert.deepEqual((await pdp.auditEvents(stream)).filter((record) => !isActivation(record)), [], `no record on the ${stream} stream`);
  });
});
