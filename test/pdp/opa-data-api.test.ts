import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPAClient } from '@open-policy-agent/opa';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

describe('the Data API answers as OPA does, for OPA clients', () => {
  let pdp: TestPdp;
  const enrichedInput = {
    principal: { authenticated: true, error: null, sub: 'agent-9', iss: 'portcullis-dev', kind: 'agent', roles: ['reader'] },
    pep: { sub: 'pep', roles: ['pep'] },
    resource: { type: 'postgres', name: 'orders-db', environment: 'production', labels: {} },
    action: {
      type: 'sql', sql: 'SELECT email FROM users', parse_error: null,
      statements: [{
        kind: 'select', node: 'SelectStmt', text: 'SELECT email FROM users',
        operations: [{ kind: 'select', table: 'users', schema: null, has_where: false }],
        tables: ['users'], columns: [{ table: 'users', column: 'email' }], star_tables: [], functions: [], calls: [],
        writes: false, explain_analyze: false, copy: null, set: null,
      }],
    },
    session: {},
  };
  before(async () => {
    pdp = await startTestPdp();
  });
  after(() => pdp.close());

  it('the official @open-policy-agent/opa client evaluates portcullis/decision', async () => {
    const client = new OPAClient(pdp.url, { headers: { Authorization: `Bearer ${pdp.pepToken}` } });
    const decision = await client.evaluate<typeof enrichedInput, { effect: string; obligations: { mask: { column: string }[] } }>('portcullis/decision', enrichedInput);
    assert.equal(decision.effect, 'allow');
    assert.ok(decision.obligations.mask.some((mask) => mask.column === 'email'), 'email is masked for a reader');
  });

  it('returns 200 without result for an undefined document, and a decision_id', async () => {
    const response = await fetch(`${pdp.url}/v1/data/portcullis/no_such_rule`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: {} }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal('result' in body, false);
    assert.equal(typeof body.decision_id, 'string');
  });

  it('denies garbage input rather than failing, and reports malformed bodies with OPA error codes', async () => {
    const garbage = await fetch(`${pdp.url}/v1/data/portcullis/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { nonsense: [1, 2, 3] } }),
    });
    assert.equal(garbage.status, 200);
    assert.equal(((await garbage.json()) as { result: { effect: string } }).result.effect, 'deny');

    const malformed = await fetch(`${pdp.url}/v1/data/portcullis/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' },
      body: '{"input": ',
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { code: string }).code, 'invalid_parameter');
  });

  it('requires a PEP credential by default', async () => {
    const response = await fetch(`${pdp.url}/v1/data/portcullis/decision`, { method: 'POST', body: '{}' , headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { code: string }).code, 'unauthorized');
  });

  it('reports provenance and metrics when asked', async () => {
    const response = await fetch(`${pdp.url}/v1/data/portcullis/decision?provenance&metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: enrichedInput }),
    });
    const body = (await response.json()) as { provenance: { revision: string }; metrics: { timer_rego_query_eval_ns: number } };
    assert.equal(typeof body.provenance.revision, 'string');
    assert.ok(body.provenance.revision.length > 0);
    assert.ok(body.metrics.timer_rego_query_eval_ns > 0);
  });

  it('answers only once its audit record is durable: a record that cannot be written is no answer', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'portcullis-data-unwritable-'));
    // The decisions file is a folder: opening it for append fails, as a broken disk would.
    mkdirSync(join(stateDir, 'audit', 'decisions.jsonl'), { recursive: true });
    const broken = await startTestPdp({ PORTCULLIS_STATE_DIR: stateDir });
    try {
      const response = await fetch(`${broken.url}/v1/data/portcullis/decision`, {
        method: 'POST',
        headers: { authorization: `Bearer ${broken.pepToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ input: enrichedInput }),
      });
      const body = (await response.json()) as { code?: string; message?: string; result?: unknown };
      assert.equal(response.status, 503, JSON.stringify(body));
      assert.equal('result' in body, false, 'no policy answer without its record');
      // A trail that cannot write refuses the bundle's activation record too, so no bundle answers.
      assert.match(body.message ?? '', /no policy bundle is loaded/);
    } finally {
      await broken.close();
    }
  });
});
