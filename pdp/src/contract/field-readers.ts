import { PortcullisError } from '../errors/portcullis-error.ts';

// Readers for fields of untrusted request bodies, shared by the contract's parsers: each returns
// the field as its type or throws `invalid-request` naming the field and what it must be.

export function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(field, value === undefined ? 'is required' : 'must be an object');
  }
  return value as Record<string, unknown>;
}

export function text(value: unknown, field: string, max: number, allowEmpty = false): string {
  if (value === undefined) return fail(field, 'is required');
  if (typeof value !== 'string') return fail(field, 'must be a string');
  if (!allowEmpty && value === '') return fail(field, 'must not be empty');
  if (value.length > max) return fail(field, `must be at most ${max} characters`);
  return value;
}

export function fail(field: string, problem: string): never {
  throw new PortcullisError('invalid-request', `${field} ${problem}`, { field });
}
