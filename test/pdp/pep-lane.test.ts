import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

/**
 * The PEP routes are served in front of the Express app (pep-lane.ts), by handlers that use
 * Node's request and response alone. Whichever of the two serves a request, it must answer as one
 * server: the same routing, the same error shapes and headers, each request counted once.
 */
describe('the PEP routes and the rest of the API answer as one server', () => {
  let pdp: TestPdp;
  let agent: string;
  before(async () => {
    pdp = await startTestPdp();
    agent = await pdp.token({ sub: 'agent-lane', roles: ['reader'] });
  });
  after(() => pdp.close());

  const counted = async (route: string, status: number): Promise<number> => {
    const text = await pdp.metrics();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`portcullis_http_requests_total{route="${route}",status="${status}"}`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const decisionBody = () => JSON.stringify({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'SELECT 1' } });

  it('counts each request once, by route and status, whoever serves it', async () => {
    const before = { allowed: await counted('/v1/decisions', 200), refused: await counted('/v1/decisions', 405), unknown: await counted('other', 404) };
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${pdp.url}/v1/decisions`, { method: 'POST', headers: { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' }, body: decisionBody() });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    // A method the PEP routes do not serve passes through them to the app's 405.
    const wrongMethod = await fetch(`${pdp.url}/v1/decisions`, { method: 'PUT' });
    assert.equal(wrongMethod.status, 405);
    await wrongMethod.arrayBuffer();
    const nowhere = await fetch(`${pdp.url}/v1/no-such-route`, { method: 'POST' });
    assert.equal(nowhere.status, 404);
    await nowhere.arrayBuffer();
    assert.equal(await counted('/v1/decisions', 200), before.allowed + 3);
    assert.equal(await counted('/v1/decisions', 405), before.refused + 1);
    assert.equal(await counted('other', 404), before.unknown + 1);
  });

  it('refuses other methods on the decision route with 405 and Allow: POST, in the one error shape', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await fetch(`${pdp.url}/v1/decisions`, { method });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'POST');
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(((await response.json()) as { code: string }).code, 'method-not-allowed');
    }
  });

  it('answers errors of the PEP routes as the app does: ErrorV1, JSON type, a bearer challenge', async () => {
    const noToken = await fetch(`${pdp.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: decisionBody() });
    assert.equal(noToken.status, 401);
    assert.equal(noToken.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.match(noToken.headers.get('www-authenticate') ?? '', /^Bearer realm="portcullis"/);
    const body = (await noToken.json()) as { code: string; message: string };
    assert.equal(body.code, 'unauthenticated');
    assert.match(body.message, /bearer token/);

    const events = await fetch(`${pdp.url}/v1/sessions/events`, { method: 'POST', headers: { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' }, body: '{"events": [' });
    assert.equal(events.status, 400);
    assert.equal(((await events.json()) as { code: string }).code, 'malformed-json');
  });

  it('sends a GET of the session-events path on to the console sessions API, not the PEP route', async () => {
    const response = await fetch(`${pdp.url}/v1/sessions/events`, { headers: { authorization: `Bearer ${pdp.pepToken}` } });
    // The console's sessions API takes console sessions only: an API token is refused there.
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { code: string }).code, 'unauthenticated');
  });

  it('serves the Data API flags, HEAD and OPA error shape on the same handlers', async () => {
    const headers = { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' };
    const pretty = await fetch(`${pdp.url}/v1/data/portcullis/no_such_rule?pretty&provenance`, { method: 'POST', headers, body: '{"input": {}}' });
    assert.equal(pretty.status, 200);
    assert.equal(pretty.headers.get('content-type'), 'application/json; charset=utf-8');
    const text = await pretty.text();
    assert.match(text, /^\{\n {2}"decision_id": /);
    assert.ok(text.endsWith('}\n'));
    assert.equal(typeof (JSON.parse(text) as { provenance: { revision: string } }).provenance.revision, 'string');

    const head = await fetch(`${pdp.url}/v1/data/portcullis/no_such_rule`, { method: 'HEAD', headers: { authorization: `Bearer ${pdp.pepToken}` } });
    assert.equal(head.status, 200);
    assert.equal((await head.arrayBuffer()).byteLength, 0);

    const noRule = await fetch(`${pdp.url}/v1/data`, { method: 'POST', headers, body: '{}' });
    assert.equal(noRule.status, 400);
    assert.deepEqual(await noRule.json(), { code: 'invalid_parameter', message: 'name a rule: /v1/data/{package}/{rule}' });
  });
});
