import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failClosedAnswer, refusalFor, type DecisionAnswer, type RefusalKind } from '@portcullis/pep-core';
import { postgresSqlState } from '../src/errors/postgres-sqlstate.ts';

function pdpAnswer(effect: DecisionAnswer['effect'], codes: string[], overrides: Partial<DecisionAnswer> = {}): DecisionAnswer {
  return {
    source: 'pdp',
    decision_id: 'd-1',
    effect,
    reasons: codes.map((code) => ({ code, message: `because ${code}` })),
    obligations: { mask: [], record: true },
    principal: { sub: 'agent-1', iss: 'https://issuer', kind: 'agent', authenticated: true },
    policy_revision: 'r1',
    ...overrides,
  };
}

describe('fail-closed refusals', () => {
  it('lets an allow through', () => {
    assert.equal(refusalFor(pdpAnswer('allow', [])), undefined);
  });

  const cases: Array<[string, DecisionAnswer, RefusalKind, string, string]> = [
    ['a policy deny', pdpAnswer('deny', ['sql-delete-without-where']), 'denied', '42501', '42501'],
    ['an unverified caller', pdpAnswer('deny', ['token-expired'], { principal: { sub: null, iss: null, kind: 'agent', authenticated: false } }), 'unauthenticated', '28P01', '28000'],
    ['a PDP without policy', pdpAnswer('deny', ['policy-not-loaded']), 'unavailable', '57P03', '58000'],
    ['a PDP whose audit trail is full', pdpAnswer('deny', ['audit-unavailable']), 'unavailable', '57P03', '58000'],
    ['a PDP out of reach', failClosedAnswer('pdp-unreachable', 'x'), 'unavailable', '57P03', '58000'],
    ['a PDP too slow', failClosedAnswer('pdp-timeout', 'x'), 'unavailable', '57P03', '58000'],
    ['a PDP answering nonsense', failClosedAnswer('pdp-bad-answer', 'x'), 'unavailable', '57P03', '58000'],
    ['a PDP refusing the PEP credential', failClosedAnswer('unauthenticated', 'x'), 'unavailable', '57P03', '58000'],
    ['a request the PDP cannot take', failClosedAnswer('payload-too-large', 'x'), 'denied', '42501', '42501'],
    ['a command held for approval', pdpAnswer('approval_required', ['production-change'], { approval: { id: 'a-1', status: 'pending', expires_at: '2030-01-01T00:00:00Z' } }), 'approval-pending', '57P03', '57014'],
    ['a wait that ran out', failClosedAnswer('approval-timeout', 'x'), 'approval-pending', '57P03', '57014'],
    ['an approver saying no', pdpAnswer('deny', ['approval-denied']), 'approval-refused', '42501', '42501'],
    ['an approval for another command', pdpAnswer('deny', ['approval-binding-mismatch']), 'approval-refused', '42501', '42501'],
    ['an expired approval', failClosedAnswer('approval-expired', 'x'), 'approval-refused', '42501', '42501'],
    ['a caller who gave up', failClosedAnswer('approval-cancelled', 'x'), 'cancelled', '57014', '57014'],
    ['a wait that broke', failClosedAnswer('approval-wait-failed', 'x'), 'unavailable', '57P03', '58000'],
  ];
  for (const [what, answer, kind, startup, statement] of cases) {
    it(`maps ${what} to ${kind} (SQLSTATE ${startup} at login, ${statement} per statement)`, () => {
      const refusal = refusalFor(answer)!;
      assert.equal(refusal.kind, kind);
      assert.equal(refusal.code, answer.reasons[0]!.code);
      assert.equal(refusal.decisionId, answer.decision_id);
      assert.equal(postgresSqlState(refusal, 'startup'), startup);
      assert.equal(postgresSqlState(refusal, 'statement'), statement);
    });
  }

  it('says which decision and approval to look up', () => {
    const refusal = refusalFor(cases[9]![1])!;
    assert.equal(refusal.approvalId, 'a-1');
    assert.match(refusal.message, /^portcullis: held for approval \(production-change: because production-change\) \[approval a-1\] \[decision d-1\]$/);
    assert.equal(refusal.retryable, true);
    assert.equal(refusalFor(cases[0]![1])!.retryable, false);
  });

  it('never carries a token or control characters to the client', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const answer = pdpAnswer('deny', [], {
      reasons: [
        { code: 'custom', message: `token ${token} and Bearer abcdefghijklmnop rejected` },
        { code: 'control', message: 'first\u0000second\u0007' },
      ],
    });
    const { message } = refusalFor(answer)!;
    for (const secret of [token, 'abcdefghijklmnop', '\u0000', '\u0007']) assert.ok(!message.includes(secret), secret);
    assert.ok(message.includes('<token>'));
  });

  // The PEP's own words come from the PDP and policy, never from the database: the value
  // detectors are not run on them, so an id reaches the person who must type it intact.
  it('keeps ids whose digits look like personal data intact', () => {
    const approvalId = 'babbb0ec-1ddd-420e-83a4-111111111111';
    const answer = pdpAnswer('approval_required', [], {
      reasons: [{ code: 'production-change', message: 'ticket 4111 1111 1111 1111 and owner ops@example.com' }],
      approval: { id: approvalId, status: 'pending', console_url: 'http://127.0.0.1:8181/console', expires_at: '2026-01-01T00:00:00.000Z' },
    });
    const refusal = refusalFor(answer)!;
    assert.ok(refusal.message.includes(`[approval ${approvalId}]`), refusal.message);
    assert.ok(refusal.message.includes('ticket 4111 1111 1111 1111 and owner ops@example.com'), refusal.message);
  });

  it('keeps messages bounded', () => {
    const answer = pdpAnswer('deny', [], { reasons: [{ code: 'long', message: 'x'.repeat(10_000) }] });
    assert.ok(refusalFor(answer)!.message.length <= 1000);
  });
});
