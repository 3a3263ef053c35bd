import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { DecisionReuseCache, HttpPdpTransport, PdpDecisionClient, type DecisionAnswer } from '../src/index.ts';
import { sql } from './support/decision-requests.ts';

describe('decision reuse: what the real PDP grants', () => {
  let pdp: TestPdp;
  let transport: HttpPdpTransport;
  let client: PdpDecisionClient;
  let reader: string;
  let writer: string;

  before(async () => {
    pdp = await startTestPdp();
    transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    client = new PdpDecisionClient(transport);
    reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
    writer = await pdp.token({ sub: 'agent-writer', roles: ['writer'] });
  });
  after(async () => {
    transport.close();
    await pdp.close();
  });

  it('grants reuse for an allowed plain read, bounded by policy time', async () => {
    const before = Date.now();
    const answer = await client.decide(sql(reader, 'SELECT id, total FROM orders WHERE id = 7'));
    assert.equal(answer.effect, 'allow');
    assert.equal(answer.reuse?.scope, 'statement-shape');
    const until = Date.parse(answer.reuse!.expires_at);
    assert.ok(until > before && until <= Date.now() + 30_000, answer.reuse!.expires_at);
  });

  it('never lets a reuse grant outlive the caller token', async () => {
    const shortLived = await pdp.token({ sub: 'agent-reader', roles: ['reader'], ttlSeconds: 5 });
    const answer = await client.decide(sql(shortLived, 'SELECT id FROM orders WHERE id = 1'));
    assert.equal(answer.effect, 'allow');
    assert.ok(Date.parse(answer.reuse!.expires_at) <= Date.now() + 5_000 + 1_000);
  });

  it('grants none for utility statements, approvals, denials or an approval being presented', async () => {
    const utility = await client.decide(sql(reader, 'SHOW work_mem'));
    assert.equal(utility.effect, 'allow');
    assert.equal(utility.reuse, undefined);
    const mixed = await client.decide(sql(reader, 'SELECT 1; SHOW work_mem'));
    assert.equal(mixed.effect, 'allow');
    assert.equal(mixed.reuse, undefined);
    const held = await client.decide(sql(writer, "UPDATE orders SET status = 'paid' WHERE id = 7"));
    assert.equal(held.effect, 'approval_required');
    assert.equal(held.reuse, undefined);
    const refused = await client.decide(sql(reader, 'DELETE FROM orders WHERE id = 7'));
    assert.equal(refused.effect, 'deny');
    assert.equal(refused.reuse, undefined);
  });
});

describe('DecisionReuseCache', () => {
  const allow = (id: string, expiresAt: number, revision = 'r1'): DecisionAnswer => ({
    source: 'pdp',
    decision_id: id,
    effect: 'allow',
    reasons: [],
    obligations: { mask: [], record: true },
    reuse: { scope: 'statement-shape', expires_at: new Date(expiresAt).toISOString() },
    principal: { sub: 'a', iss: 'i', kind: 'agent', authenticated: true },
    policy_revision: revision,
  });

  it('hands back a granted allow for its shape until the grant expires', () => {
    let now = 1_000_000;
    const cache = new DecisionReuseCache({ now: () => now });
    cache.observe('shape-a', allow('d1', now + 10_000));
    assert.equal(cache.lookup('shape-a')?.decision_id, 'd1');
    assert.equal(cache.lookup('shape-b'), undefined);
    now += 10_000;
    assert.equal(cache.lookup('shape-a'), undefined);
    assert.equal(cache.size, 0);
  });

  it('keeps nothing without a grant, for a deny, or for a PEP-made answer', () => {
    const cache = new DecisionReuseCache();
    const { reuse: _reuse, ...plain } = allow('d1', Date.now() + 10_000);
    cache.observe('a', plain);
    cache.observe('b', { ...allow('d2', Date.now() + 10_000), effect: 'deny' });
    cache.observe('c', { ...allow('d3', Date.now() + 10_000), source: 'pep' });
    cache.observe(undefined, allow('d4', Date.now() + 10_000));
    assert.equal(cache.size, 0);
  });

  it('forgets every shape when an answer comes under another policy revision', () => {
    const cache = new DecisionReuseCache();
    cache.observe('a', allow('d1', Date.now() + 10_000, 'r1'));
    cache.observe('b', allow('d2', Date.now() + 10_000, 'r1'));
    assert.equal(cache.size, 2);
    cache.observe(undefined, { ...allow('d3', Date.now() + 10_000, 'r2'), effect: 'deny' });
    assert.equal(cache.size, 0);
    assert.equal(cache.lookup('a'), undefined);
  });

  it('drops the least recently used shape when full', () => {
    const cache = new DecisionReuseCache({ maxEntries: 2 });
    const later = Date.now() + 10_000;
    cache.observe('a', allow('d1', later));
    cache.observe('b', allow('d2', later));
    cache.lookup('a');
    cache.observe('c', allow('d3', later));
    assert.equal(cache.lookup('b'), undefined);
    assert.equal(cache.lookup('a')?.decision_id, 'd1');
    assert.equal(cache.lookup('c')?.decision_id, 'd3');
  });
});
