import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPolicyOutcome } from '../src/decisions/policy-result.ts';

const email = { table: 'users', column: 'email', strategy: 'partial' };

describe('reading the policy decision: mask obligations', () => {
  it('passes obligation extensions (unmasked, mask_complete) on as policy wrote them', () => {
    const outcome = readPolicyOutcome({ effect: 'allow', reasons: [], obligations: { mask: [email], record: true, unmasked: false, mask_complete: true } });
    assert.deepEqual(outcome.obligations, { mask: [email], record: true, unmasked: false, mask_complete: true });
  });

  it('no longer calls a mask list complete once a malformed entry was dropped from it', () => {
    const outcome = readPolicyOutcome({ effect: 'allow', reasons: [], obligations: { mask: [email, { table: 'users', column: 'ssn', strategy: 7 }], mask_complete: true } });
    assert.deepEqual(outcome.obligations.mask, [email]);
    assert.equal(outcome.obligations.mask_complete, false);
    const noList = readPolicyOutcome({ effect: 'allow', reasons: [], obligations: { mask: 'all', mask_complete: true } });
    assert.equal(noList.obligations.mask_complete, false);
  });

  it('passes a computed_strategy on with its obligation, and drops one that is not a string', () => {
    const hashed = { ...email, computed_strategy: 'hash' };
    const outcome = readPolicyOutcome({ effect: 'allow', reasons: [], obligations: { mask: [hashed, { ...email, column: 'phone', computed_strategy: 3 }] } });
    assert.deepEqual(outcome.obligations.mask, [hashed, { ...email, column: 'phone' }]);
  });
});
