import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readResourceBinding, type ResourceBinding } from '../src/identity/resource-binding.ts';

function binding(value: unknown): ResourceBinding {
  const result = readResourceBinding(value, 'portcullis_resources');
  if (!result.ok) throw new Error(result.message);
  return result.binding;
}

describe('a PEP token\'s resource binding', () => {
  test('matches names exactly, globs by * and ?, and types when given', () => {
    const cases: Array<[unknown, string, string, boolean]> = [
      [['orders-db'], 'postgres', 'orders-db', true],
      [['orders-db'], 'postgres', 'orders-dbx', false],
      [['orders-db'], 'postgres', 'ORDERS-DB', false],
      ['orders-db web-1', 'ssh', 'web-1', true],
      [['*'], 'kubernetes', 'anything at all', true],
      [['*-db'], 'postgres', '-db', true],
      [['*-db'], 'postgres', 'orders-db.evil', false],
      [['a*b*c'], 'x', 'aXXbYYc', true],
      [['a*b*c'], 'x', 'aXXcYYb', false],
      [['??'], 'x', 'ab', true],
      [['??'], 'x', 'abc', false],
      [['web.1'], 'ssh', 'webx1', false],
      [['(a|b)'], 'x', 'a', false],
      [['postgres:*'], 'postgres', 'any', true],
      [['postgres:*'], 'ssh', 'any', false],
      [['*:orders-db'], 'mysql', 'orders-db', true],
      [['pg*:orders-*'], 'pgbouncer', 'orders-eu', true],
    ];
    for (const [claim, type, name, expected] of cases) {
      assert.equal(binding(claim).fronts({ type, name }), expected, `${JSON.stringify(claim)} vs ${type}:${name}`);
    }
  });

  test('a glob against a long name ends (no backtracking blow-up)', () => {
    const glob = binding([`${'*a'.repeat(100)}*b`]);
    assert.equal(glob.fronts({ type: 'x', name: 'a'.repeat(256) }), false);
  });

  test('refuses a missing, empty or malformed claim, naming the claim', () => {
    for (const value of [undefined, null, [], '', '   ', 42, {}, [1], [''], ['a b'], ['a\u0000'], [':x'], ['x:'], ['x'.repeat(257)], Array(257).fill('x')]) {
      const result = readResourceBinding(value, 'portcullis_resources');
      assert.equal(result.ok, false, JSON.stringify(value));
      if (!result.ok) assert.match(result.message, /portcullis_resources/);
    }
  });
});
