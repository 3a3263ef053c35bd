import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decisionResponseV1Validator, maskKind, maskTargetV1Validator, type MaskTargetV1 } from '@portcullis/contract';

const column: MaskTargetV1 = { table: 'users', column: 'email', strategy: 'redact' };
const jsonPath: MaskTargetV1 = { kind: 'json-path', path: '$.data.*', strategy: 'redact' };
const byteStream: MaskTargetV1 = { kind: 'byte-stream', stream: 'stdout', detectors: ['email', 'credit-card'], strategy: 'redact' };

describe('mask obligations: a SQL column, a JSON path, a byte stream', () => {
  it('carries each kind, a mask without a kind being a SQL column', () => {
    for (const mask of [column, { ...column, kind: 'sql-column', computed_strategy: 'hash' }, jsonPath, byteStream]) assert.ok(maskTargetV1Validator.check(mask), JSON.stringify(mask));
    assert.deepEqual([column, jsonPath, byteStream].map(maskKind), ['sql-column', 'json-path', 'byte-stream']);
  });

  it('refuses a kind the contract does not know, and a kind without what it needs', () => {
    for (const mask of [
      { kind: 'xml-path', path: '/a', strategy: 'redact' },
      { kind: 'json-path', strategy: 'redact' },
      { kind: 'byte-stream', detectors: [], strategy: 'redact' },
      { table: 'users', strategy: 'redact' },
      { ...column, computed_strategy: 5 },
    ]) {
      assert.equal(maskTargetV1Validator.check(mask), false, JSON.stringify(mask));
    }
  });

  it('lets an answer mix kinds, and keep obligations of other names', () => {
    const answer = {
      decision_id: 'd1',
      effect: 'allow',
      reasons: [],
      obligations: { mask: [column, jsonPath, byteStream], record: true, mask_complete: true, watermark: { text: 'x' } },
      principal: { sub: 'agent-1', iss: 'https://idp', kind: 'agent', authenticated: true },
      policy_revision: null,
    };
    assert.ok(decisionResponseV1Validator.check(answer));
  });
});
