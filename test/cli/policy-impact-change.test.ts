import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decisionChange, type ReplayOutcome } from '@portcullis/pdp';

const reason = (code: string, message = code) => ({ code, message });
const outcome = (effect: ReplayOutcome['effect'], extra: Partial<ReplayOutcome> = {}): ReplayOutcome => ({
  effect,
  reasons: [reason(`${effect}-reason`)],
  obligations: { mask: [], record: true },
  ...extra,
});

describe('what a candidate changes about one decision (the impact diff model)', () => {
  it('the same outcome is no change, and a reworded or reordered reason is none either', () => {
    assert.equal(decisionChange(outcome('allow'), outcome('allow')), undefined);
    const two = outcome('deny', { reasons: [reason('a', 'one text'), reason('b')] });
    assert.equal(decisionChange(two, outcome('deny', { reasons: [reason('b'), reason('a', 'another text')] })), undefined);
  });

  it('effect transitions: deny→allow, deny→approval_required and approval_required→allow loosen; the others tighten', () => {
    const loosens = (from: ReplayOutcome['effect'], to: ReplayOutcome['effect']) => decisionChange(outcome(from, { reasons: [] }), outcome(to, { reasons: [] }))!;
    for (const [from, to] of [['deny', 'allow'], ['deny', 'approval_required'], ['approval_required', 'allow']] as const) {
      const change = loosens(from, to);
      assert.deepEqual(change.kinds, [`${from}→${to}`]);
      assert.deepEqual(change.loosening, [`${from}→${to}`]);
    }
    for (const [from, to] of [['allow', 'deny'], ['allow', 'approval_required'], ['approval_required', 'deny']] as const) {
      const change = loosens(from, to);
      assert.deepEqual(change.kinds, [`${from}→${to}`]);
      assert.deepEqual(change.loosening, []);
    }
  });

  it('reasons are compared by code: added and removed codes are named', () => {
    const change = decisionChange(outcome('deny', { reasons: [reason('a'), reason('b')] }), outcome('deny', { reasons: [reason('b'), reason('c')] }))!;
    assert.deepEqual(change.kinds, ['reasons changed']);
    assert.deepEqual([change.reasonsAdded, change.reasonsRemoved], [['c'], ['a']]);
    assert.deepEqual(change.loosening, []);
  });

  it('a mask removed or weakened to partial loosens (a byte-stream detector dropped is one); one added or made stronger is reported, not gated', () => {
    const masked = outcome('allow', {
      obligations: {
        mask: [
          { table: 'users', column: 'email', strategy: 'partial' },
          { kind: 'json-path', path: '$.data.*', strategy: 'redact' },
          { kind: 'json-path', path: '$.name', strategy: 'hash' },
          { kind: 'byte-stream', detectors: ['email', 'credit-card'], strategy: 'redact' },
        ],
        record: true,
      },
    });
    const candidate = outcome('allow', {
      obligations: {
        mask: [
          { table: 'users', column: 'email', strategy: 'hash' },
          { table: 'users', column: 'ssn', strategy: 'redact' },
          { kind: 'json-path', path: '$.data.*', strategy: 'redact' },
          { kind: 'json-path', path: '$.name', strategy: 'partial' },
          { kind: 'byte-stream', detectors: ['email'], strategy: 'redact' },
        ],
        record: true,
      },
    });
    const change = decisionChange(masked, candidate)!;
    assert.deepEqual(change.kinds, ['masks changed']);
    assert.deepEqual(change.masks, [
      { target: 'byte-stream * credit-card', recorded: 'redact' },
      { target: 'json-path $.name', recorded: 'hash', candidate: 'partial' },
      { target: 'users.email', recorded: 'partial', candidate: 'hash' },
      { target: 'users.ssn', candidate: 'redact' },
    ]);
    assert.deepEqual(change.loosening, ['mask removed: byte-stream * credit-card', 'mask weakened: json-path $.name hash → partial']);
  });

  it('personal data in clear, a session no longer recorded and a tool no longer hidden loosen; other obligations are named', () => {
    const change = decisionChange(outcome('allow', { obligations: { mask: [], record: true, hidden_tools: ['drop'] } }), outcome('allow', { obligations: { mask: [], record: false, unmasked: true } }))!;
    assert.deepEqual(change.kinds, ['obligations changed']);
    assert.deepEqual(change.obligations, ['hidden_tools', 'record', 'unmasked']);
    assert.deepEqual(change.loosening, ['unmasked: personal data in clear', 'record: session no longer recorded', 'tool no longer hidden: drop']);
  });

  it('another approval requirement for a decision that still needs one is reported', () => {
    const change = decisionChange(outcome('approval_required', { approval: { quorum: 2 } }), outcome('approval_required', { approval: { quorum: 1 } }))!;
    assert.deepEqual(change.kinds, ['approval requirement changed']);
  });
});
