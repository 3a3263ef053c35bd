// A decision a PEP holds on to (a prepared statement's, a reused allow) is checked before each
// further execution: real answers from the real PDP, judged at chosen instants.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { HttpPdpTransport, PdpDecisionClient, staleDecisionReason, type DecisionAnswer } from '../src/index.ts';
import { sql } from './support/decision-requests.ts';

describe('decision validity: when a held decision must be asked again', () => {
  let pdp: TestPdp;
  let transport: HttpPdpTransport;
  let answer: DecisionAnswer;
  const TTL_SECONDS = 120;

  before(async () => {
    pdp = await startTestPdp();
    transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const reader = await pdp.token({ sub: 'agent-validity', roles: ['reader'], ttlSeconds: TTL_SECONDS });
    answer = await new PdpDecisionClient(transport).decide(sql(reader, 'SELECT id, total FROM orders WHERE id = 7'));
  });
  after(async () => {
    transport.close();
    await pdp.close();
  });

  const at = (iso: string, offsetMs = 0): number => Date.parse(iso) + offsetMs;

  it('the answer names when its subject token expires and when its reuse ends', () => {
    assert.equal(answer.effect, 'allow');
    assert.equal(answer.source, 'pdp');
    assert.ok(answer.principal.expires_at, 'principal.expires_at');
    assert.ok(answer.reuse?.expires_at, 'reuse.expires_at');
  });

  it('holds while the token, the reuse window and the policy revision all still hold', () => {
    const now = at(answer.reuse!.expires_at, -1);
    assert.equal(staleDecisionReason(answer, { reused: true, latestRevision: answer.policy_revision, now }), undefined);
    assert.equal(staleDecisionReason(answer, { reused: false, latestRevision: undefined, now }), undefined);
  });

  it('is stale at the token expiry itself, reused or not', () => {
    const now = at(answer.principal.expires_at!);
    assert.equal(staleDecisionReason(answer, { reused: false, latestRevision: answer.policy_revision, now }), 'token-expired');
    assert.equal(staleDecisionReason(answer, { reused: true, latestRevision: answer.policy_revision, now }), 'token-expired');
  });

  it('a reused allow is stale at the end of its reuse window; the statement it was decided for is not', () => {
    const now = at(answer.reuse!.expires_at);
    assert.equal(staleDecisionReason(answer, { reused: true, latestRevision: answer.policy_revision, now }), 'reuse-window-over');
    assert.equal(staleDecisionReason(answer, { reused: false, latestRevision: answer.policy_revision, now }), undefined);
  });

  it('is stale once any answer came under another policy revision', () => {
    const now = at(answer.reuse!.expires_at, -1);
    assert.equal(staleDecisionReason(answer, { reused: false, latestRevision: `${answer.policy_revision}-next`, now }), 'policy-revised');
    assert.equal(staleDecisionReason(answer, { reused: true, latestRevision: null, now }), 'policy-revised');
  });

  it('an expiry it cannot read counts as passed (fail closed)', () => {
    const garbled = { ...answer, principal: { ...answer.principal, expires_at: 'not-a-time' } } as DecisionAnswer;
    assert.equal(staleDecisionReason(garbled, { reused: false, latestRevision: answer.policy_revision, now: Date.now() }), 'token-expired');
    const noReuse = { ...answer, reuse: undefined } as DecisionAnswer;
    assert.equal(staleDecisionReason(noReuse, { reused: true, latestRevision: answer.policy_revision, now: Date.now() }), 'reuse-window-over');
  });
});
