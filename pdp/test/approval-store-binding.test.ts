import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalBinding, bindingsMatch } from '../src/approvals/approval-binding.ts';

const ISSUER = 'https://issuer.example.test';
const resource = { type: 'postgres', name: 'orders-db', environment: 'production' };
const action = { type: 'sql', sql: 'DELETE FROM orders WHERE id = 7', statements: [{ kind: 'delete', tables: ['orders'] }] };

test('the binding is a sha256 that ignores key order', () => {
  const binding = approvalBinding({ iss: ISSUER, sub: 'agent:bot' }, resource, action);
  assert.match(binding, /^[0-9a-f]{64}$/);
  assert.equal(approvalBinding({ iss: ISSUER, sub: 'agent:bot' }, { environment: 'production', name: 'orders-db', type: 'postgres' }, action), binding);
});

test('the binding changes with the principal, the resource or the action', () => {
  const binding = approvalBinding({ iss: ISSUER, sub: 'agent:bot' }, resource, action);
  assert.notEqual(approvalBinding({ iss: ISSUER, sub: 'agent:other' }, resource, action), binding);
  assert.notEqual(approvalBinding({ iss: ISSUER, sub: 'agent:bot' }, { ...resource, name: 'users-db' }, action), binding);
  assert.notEqual(approvalBinding({ iss: ISSUER, sub: 'agent:bot' }, resource, { ...action, sql: 'DELETE FROM orders WHERE id = 8' }), binding);
});

test('the binding changes with the issuer: the same sub from another issuer is another principal', () => {
  assert.notEqual(approvalBinding({ iss: 'https://other.example.test', sub: 'agent:bot' }, resource, action), approvalBinding({ iss: ISSUER, sub: 'agent:bot' }, resource, action));
});

test('bindingsMatch compares whole values of any length', () => {
  const binding = approvalBinding({ iss: ISSUER, sub: 'agent:bot' }, resource, action);
  assert.equal(bindingsMatch(binding, binding), true);
  assert.equal(bindingsMatch(binding, binding.slice(0, 63)), false);
  assert.equal(bindingsMatch(binding, ''), false);
});
