import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

const validBody = (subjectToken: string) => ({
  subject_token: subjectToken,
  resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
  action: { type: 'sql', sql: 'SELECT 1' },
});

describe('the decision API refuses bad input with a clear error and keeps serving', () => {
  let pdp: TestPdp;
  let agent: string;
  before(async () => {
    pdp = await startTestPdp({ PORTCULLIS_MAX_BODY_BYTES: '65536' });
    agent = await pdp.token({ sub: 'agent-1', roles: ['reader'] });
  });
  after(() => pdp.close());

  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${pdp.url}/v1/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pdp.pepToken}`, ...headers },
      body,
    });

  it('answers a path parameter that is not valid percent-encoding with 400 invalid-request, not an internal error', async () => {
    const logged = pdp.logs.length;
    for (const method of ['GET', 'POST']) {
      const response = await fetch(`${pdp.url}/v1/data/portcullis/%ZZ`, { method, headers: { authorization: `Bearer ${pdp.pepToken}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{}' } : {}) });
      assert.equal(response.status, 400, method);
      assert.equal(((await response.json()) as { code: string }).code, 'invalid-request');
    }
    assert.equal(pdp.logs.slice(logged).filter((line) => line.includes('internal error')).length, 0);
  });

  it('answers malformed JSON with 400 malformed-json', async () => {
    const response = await post('{"subject_token": "x", ');
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { code: string }).code, 'malformed-json');
  });

  it('answers an oversized body with 413 payload-too-large', async () => {
    const response = await post(JSON.stringify({ ...validBody(agent), action: { type: 'sql', sql: `SELECT '${'x'.repeat(70_000)}'` } }));
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { code: string }).code, 'payload-too-large');
  });

  it('answers missing fields with 400 invalid-request naming the field', async () => {
    for (const [body, field] of [
      [{ subject_token: agent, action: { type: 'sql', sql: 'SELECT 1' } }, 'resource'],
      [{ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' } }, 'action'],
      [{ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql' } }, 'action.sql'],
      [{ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'ftp', sql: 'x' } }, 'action.type'],
      [{ subject_token: 42, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'x' } }, 'subject_token'],
      [[1, 2, 3], 'body'],
    ] as const) {
      const response = await post(JSON.stringify(body));
      assert.equal(response.status, 400, `status for missing ${field}`);
      const error = (await response.json()) as { code: string; details: { field: string } };
      assert.equal(error.code, 'invalid-request');
      assert.equal(error.details.field, field);
    }
  });

  it('answers a non-JSON content type with 415', async () => {
    const response = await post('a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(response.status, 415);
  });

  it('answers binary garbage with 400 and no crash', async () => {
    const response = await post(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b, 0x80]));
    assert.equal(response.status, 400);
  });

  it('refuses a missing, forged or non-PEP credential with 401/403', async () => {
    const noToken = await fetch(`${pdp.url}/v1/decisions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(validBody(agent)) });
    assert.equal(noToken.status, 401);
    assert.equal(((await noToken.json()) as { code: string }).code, 'unauthenticated');
    const forged = await post(JSON.stringify(validBody(agent)), { authorization: `Bearer ${pdp.pepToken.slice(0, -4)}AAAA` });
    assert.equal(forged.status, 401);
    const agentAsPep = await post(JSON.stringify(validBody(agent)), { authorization: `Bearer ${agent}` });
    assert.equal(agentAsPep.status, 403);
    assert.equal(((await agentAsPep.json()) as { code: string }).code, 'forbidden');
  });

  it('survives garbage on the wire and abrupt disconnects, then still decides', async () => {
    const { port } = new URL(pdp.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"subject');
        socket.destroy();
        resolve();
      });
    });
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('\x00\x01\x02 NOT HTTP AT ALL\r\n\r\n'));
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    const response = await post(JSON.stringify(validBody(agent)));
    assert.equal(response.status, 200);
    const decision = (await response.json()) as { effect: string };
    assert.equal(decision.effect, 'allow');
  });

  it('answers unknown routes and wrong methods with JSON errors', async () => {
    const missing = await fetch(`${pdp.url}/v1/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, 'not-found');
    const wrongMethod = await fetch(`${pdp.url}/v1/decisions`);
    assert.equal(wrongMethod.status, 405);
  });
});
