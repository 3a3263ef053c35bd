import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { HttpPdpTransport, LOCAL_DECISION_PREFIX, PdpDecisionClient, refusalFor, type DecisionAnswer } from '../src/index.ts';
import { sql } from './support/decision-requests.ts';
import { deadPort, scriptedServer, silentServer } from './support/fault-servers.ts';

const codes = (answer: DecisionAnswer) => answer.reasons.map((reason) => reason.code);

describe('the PDP client asks a real PDP and enforces what it answers', () => {
  let pdp: TestPdp;
  let transport: HttpPdpTransport;
  let client: PdpDecisionClient;
  let reader: string;
  let pdpStopped = false;

  before(async () => {
    pdp = await startTestPdp();
    transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    client = new PdpDecisionClient(transport);
    reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
  });
  after(async () => {
    transport.close();
    if (!pdpStopped) await pdp.close();
  });

  it('gets an allow for a read the policy permits, tied to a PDP decision', async () => {
    const answer = await client.decide(sql(reader, 'SELECT id, total FROM orders WHERE id = 7'));
    assert.equal(answer.effect, 'allow');
    assert.equal(answer.source, 'pdp');
    assert.ok(!answer.decision_id.startsWith(LOCAL_DECISION_PREFIX));
    assert.equal(answer.principal.sub, 'agent-reader');
    assert.equal(refusalFor(answer), undefined);
  });

  it('gets a deny with the policy reason for a write without a role that allows it', async () => {
    const answer = await client.decide(sql(reader, 'DELETE FROM orders'));
    assert.equal(answer.effect, 'deny');
    assert.equal(answer.source, 'pdp');
    assert.ok(answer.reasons.length > 0);
    assert.equal(refusalFor(answer)?.kind, 'denied');
  });

  it('gets the mask obligations for a sensitive column', async () => {
    const answer = await client.decide(sql(reader, 'SELECT email FROM users'));
    assert.equal(answer.effect, 'allow');
    assert.deepEqual(answer.obligations.mask, [{ table: 'users', column: 'email', strategy: 'partial' }]);
  });

  it('reports a forged subject token as unauthenticated', async () => {
    const answer = await client.decide(sql(`${reader.slice(0, -6)}AAAAAA`, 'SELECT 1'));
    assert.equal(answer.effect, 'deny');
    assert.equal(answer.principal.authenticated, false);
    assert.equal(refusalFor(answer)?.kind, 'unauthenticated');
  });

  it('keeps one connection open across decisions', async () => {
    let connections = 0;
    const count = () => (connections += 1);
    pdp.pdp.server.on('connection', count);
    try {
      for (let index = 0; index < 5; index += 1) await client.decide(sql(reader, 'SELECT 1'));
    } finally {
      pdp.pdp.server.off('connection', count);
    }
    assert.ok(connections <= 1, `opened ${connections} connections for 5 sequential decisions`);
  });

  it('turns the PDP refusing the PEP credential into a deny with the PDP code', async () => {
    const asAgent = new HttpPdpTransport({ url: pdp.url, pepToken: reader });
    try {
      const answer = await new PdpDecisionClient(asAgent).decide(sql(reader, 'SELECT 1'));
      assert.equal(answer.effect, 'deny');
      assert.equal(answer.source, 'pep');
      assert.deepEqual(codes(answer), ['forbidden']);
      assert.equal(refusalFor(answer)?.kind, 'unavailable');
    } finally {
      asAgent.close();
    }
  });

  it('turns a request the PDP rejects as invalid into a deny with its code', async () => {
    const answer = await client.decide({ ...sql(reader, 'SELECT 1'), resource: { type: 'postgres', name: '' } });
    assert.equal(answer.effect, 'deny');
    assert.deepEqual(codes(answer), ['invalid-request']);
    assert.equal(refusalFor(answer)?.kind, 'denied');
  });

  it('never sends the PEP token anywhere but the Authorization header, and never reports it', async () => {
    const broken = new HttpPdpTransport({ url: pdp.url, pepToken: `${pdp.pepToken}\r\nx-injected: 1` });
    try {
      const answer = await new PdpDecisionClient(broken).decide(sql(reader, 'SELECT 1'));
      assert.equal(answer.effect, 'deny');
      assert.deepEqual(codes(answer), ['pdp-error']);
      assert.ok(!JSON.stringify(answer).includes(pdp.pepToken));
    } finally {
      broken.close();
    }
  });

  it('fails closed as pdp-unreachable once the PDP is stopped', async () => {
    await pdp.close();
    pdpStopped = true;
    const answer = await client.decide(sql(reader, 'SELECT id FROM orders'));
    assert.equal(answer.effect, 'deny');
    assert.equal(answer.source, 'pep');
    assert.deepEqual(codes(answer), ['pdp-unreachable']);
    assert.ok(answer.decision_id.startsWith(LOCAL_DECISION_PREFIX));
    assert.deepEqual(answer.obligations.mask, []);
    assert.equal(refusalFor(answer)?.kind, 'unavailable');
  });
});

describe('the PDP client fails closed on every fault', () => {
  const request = sql('any-token', 'SELECT 1');

  async function answerFrom(url: string, deadlineMs = 300): Promise<DecisionAnswer> {
    const transport = new HttpPdpTransport({ url, pepToken: 'pep-token', deadlineMs });
    try {
      return await new PdpDecisionClient(transport).decide(request);
    } finally {
      transport.close();
    }
  }

  it('nothing listening → pdp-unreachable', async () => {
    const answer = await answerFrom(`http://127.0.0.1:${await deadPort()}`);
    assert.deepEqual(codes(answer), ['pdp-unreachable']);
  });

  it('a peer that accepts and never answers → pdp-timeout', async () => {
    const server = await silentServer();
    try {
      const answer = await answerFrom(server.url);
      assert.equal(answer.effect, 'deny');
      assert.deepEqual(codes(answer), ['pdp-timeout']);
    } finally {
      await server.close();
    }
  });

  it('an aborted wait → a deny, not a hang', async () => {
    const server = await silentServer();
    const transport = new HttpPdpTransport({ url: server.url, pepToken: 'pep-token', deadlineMs: 60_000 });
    try {
      const abort = new AbortController();
      const pending = new PdpDecisionClient(transport).decide(request, { signal: abort.signal });
      abort.abort();
      const answer = await pending;
      assert.equal(answer.effect, 'deny');
      assert.deepEqual(codes(answer), ['pdp-timeout']);
    } finally {
      transport.close();
      await server.close();
    }
  });

  const badAnswers: Array<[string, string, string]> = [
    ['bytes that are not HTTP', '\u0000\u00ff\u0013garbage\r\n\r\n', 'pdp-bad-answer'],
    ['HTTP with a body that is not JSON', http(200, 'hello'), 'pdp-bad-answer'],
    ['an allow without a decision id', http(200, JSON.stringify({ effect: 'allow', reasons: [], obligations: { mask: [], record: true }, principal: { authenticated: true } })), 'pdp-bad-answer'],
    ['an allow whose mask obligations cannot be read', http(200, JSON.stringify({ decision_id: 'd1', effect: 'allow', reasons: [], obligations: { mask: [{ table: 'users' }], record: true }, principal: { authenticated: true }, policy_revision: null })), 'pdp-bad-answer'],
    ['an effect the contract does not know', http(200, JSON.stringify({ decision_id: 'd1', effect: 'maybe', reasons: [], obligations: { mask: [], record: true }, principal: { authenticated: true }, policy_revision: null })), 'pdp-bad-answer'],
    ['a redirect', http(302, '{}'), 'pdp-bad-answer'],
    ['a server error', http(503, JSON.stringify({ code: 'policy-not-loaded', message: 'x' })), 'pdp-error'],
    ['a 4xx without an error body', http(404, '[]'), 'pdp-bad-answer'],
  ];
  for (const [what, reply, code] of badAnswers) {
    it(`${what} → ${code}`, async () => {
      const server = await scriptedServer(reply);
      try {
        const answer = await answerFrom(server.url, 2000);
        assert.equal(answer.effect, 'deny');
        assert.equal(answer.source, 'pep');
        assert.deepEqual(codes(answer), [code]);
        assert.equal(refusalFor(answer)?.kind, 'unavailable');
      } finally {
        await server.close();
      }
    });
  }
});

function http(status: number, body: string): string {
  return `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
