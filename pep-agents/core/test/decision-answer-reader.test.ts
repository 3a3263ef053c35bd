import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readDecisionAnswer } from '@portcullis/pep-core';

const principal = { sub: 'agent-1', iss: 'https://idp', kind: 'agent', authenticated: true };
const answer = (mask: unknown[]) => ({ decision_id: 'd1', effect: 'allow', reasons: [], obligations: { mask, record: true }, principal, policy_revision: 'r1' });
const column = { table: 'users', column: 'email', strategy: 'redact' };
const jsonPath = { kind: 'json-path', path: '$.data.*', strategy: 'redact' };
const byteStream = { kind: 'byte-stream', detectors: ['email'], strategy: 'redact' };

describe('the decision answer reader: mask obligations by kind', () => {
  it('reads SQL column masks (the default a PEP enforces), with or without their kind', () => {
    const read = readDecisionAnswer(answer([column, { ...column, column: 'phone', kind: 'sql-column', computed_strategy: 'hash' }]));
    assert.deepEqual(read?.obligations.mask, [column, { ...column, column: 'phone', computed_strategy: 'hash' }]);
  });

  it('fails closed on a mask kind the PEP cannot enforce', () => {
    assert.equal(readDecisionAnswer(answer([column, jsonPath])), undefined);
    assert.equal(readDecisionAnswer(answer([byteStream])), undefined);
    assert.equal(readDecisionAnswer(answer([byteStream]), ['json-path']), undefined);
  });

  it('fails closed on a mask kind the contract does not know, whatever the PEP enforces', () => {
    assert.equal(readDecisionAnswer(answer([{ kind: 'xml-path', path: '/a', strategy: 'redact' }]), ['sql-column', 'json-path', 'byte-stream']), undefined);
  });

  it('reads the kinds a PEP says it enforces', () => {
    const read = readDecisionAnswer(answer([jsonPath, byteStream]), ['json-path', 'byte-stream']);
    assert.deepEqual(read?.obligations.mask, [jsonPath, byteStream]);
  });
});

describe('the decision answer reader: the principal', () => {
  it("passes on the verified token's roles", () => {
    const read = readDecisionAnswer({ ...answer([]), principal: { ...principal, roles: ['reader', 'oncall'] } });
    assert.deepEqual(read?.principal.roles, ['reader', 'oncall']);
  });

  it('drops roles it cannot read rather than passing part of them', () => {
    const read = readDecisionAnswer({ ...answer([]), principal: { ...principal, roles: ['reader', 7] } });
    assert.ok(read);
    assert.equal(read.principal.roles, undefined);
  });
});
