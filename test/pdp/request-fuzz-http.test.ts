// Property-based fuzzing of the PDP's request endpoints over real HTTP: arbitrary JSON values,
// mutations of valid decision requests and session events, and arbitrary bytes declared as JSON.
// Every answer is a decision (200) or one of the API's closed set of client errors with its JSON
// error body; never a 5xx, and the PDP keeps answering a good request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '@portcullis/pdp';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

const RUNS = 60;

describe('the PDP request endpoints under fuzzing (real HTTP)', () => {
  let pdp: TestPdp;
  let agent: string;

  before(async () => {
    pdp = await startTestPdp({ PORTCULLIS_MAX_BODY_BYTES: '65536' });
    agent = await pdp.token({ sub: 'agent-fuzz', roles: ['reader'] });
  });
  after(() => pdp?.close());

  async function post(path: string, body: string | Uint8Array): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${pdp.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pdp.pepToken}` },
      body,
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      assert.fail(`${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    return { status: response.status, body: parsed as Record<string, unknown> };
  }

  /** 2xx, or a client error from the closed set with its matching status; never a 5xx. */
  function assertCleanAnswer(answer: { status: number; body: Record<string, unknown> }): void {
    assert.ok(answer.status < 500, `no server error: ${answer.status} ${JSON.stringify(answer.body)}`);
    if (answer.status >= 400) {
      const code = answer.body.code as keyof typeof ERROR_CODES;
      assert.ok(code in ERROR_CODES, `a known error code: ${String(code)}`);
      assert.equal(ERROR_CODES[code], answer.status);
      assert.equal(typeof answer.body.message, 'string');
    }
  }

  const valid = (): Record<string, unknown> => ({
    subject_token: agent,
    resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
    action: { type: 'sql', sql: 'SELECT 1' },
  });

  it('arbitrary JSON to /v1/decisions and /v1/sessions/events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (body) => {
        assertCleanAnswer(await post('/v1/decisions', JSON.stringify(body)));
        assertCleanAnswer(await post('/v1/sessions/events', JSON.stringify(body)));
      }),
      { numRuns: RUNS },
    );
  });

  it('a valid decision request with one field replaced by anything', async () => {
    const fields = ['subject_token', 'resource', 'resource.type', 'resource.name', 'resource.environment', 'resource.labels', 'action', 'action.type', 'action.sql', 'session', 'session.id', 'approval_id'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 }), async (field, value) => {
        const body = valid();
        const [head, tail] = field.split('.') as [string, string | undefined];
        if (tail === undefined) body[head] = value;
        else body[head] = { ...((body[head] as Record<string, unknown> | undefined) ?? {}), [tail]: value };
        const answer = await post('/v1/decisions', JSON.stringify(body));
        assertCleanAnswer(answer);
        if (answer.body.code === 'invalid-request') {
          const named = (answer.body.details as { field?: string } | undefined)?.field ?? '';
          assert.ok(named === field || named.startsWith(`${field}.`) || field.startsWith(`${named}.`), `changed ${field}, refused ${named}`);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('arbitrary bytes declared as JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 }).map((text) => new TextEncoder().encode(text))), async (bytes) => {
        assertCleanAnswer(await post('/v1/decisions', bytes));
        assertCleanAnswer(await post('/v1/sessions/events', bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('deeply nested and wide bodies', async () => {
    const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
    for (const body of [nested(10_000), `{"resource":${nested(5_000)}}`, JSON.stringify({ ...valid(), resource: { type: 'postgres', name: 'orders-db', labels: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'v'])) } })]) {
      assertCleanAnswer(await post('/v1/decisions', body));
    }
  });

  it('still decides a good request', async () => {
    const answer = await post('/v1/decisions', JSON.stringify(valid()));
    assert.equal(answer.status, 200);
    assert.equal(answer.body.effect, 'allow');
  });
});
