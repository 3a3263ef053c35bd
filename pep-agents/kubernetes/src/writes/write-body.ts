import { parseAllDocuments } from 'yaml';
import { duplicateJsonKey } from '@portcullis/pep-core';
import type { JsonValue } from './json-value.ts';
import { PatchError } from './patch-error.ts';

/**
 * A JSON body, as the API server's JSON decoder reads it. A member name twice in one object is
 * refused: the two readers resolve it differently (pep-core's duplicate-json-keys.ts).
 */
export function parseJsonBody(body: Buffer): JsonValue {
  const text = wellFormedUtf8(body);
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(text) as JsonValue;
  } catch {
    throw new PatchError('malformed', 'the request body is not valid JSON');
  }
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== undefined) throw new PatchError('malformed', `the request body names "${duplicate}" twice in one object`);
  return parsed;
}

/**
 * A YAML body: one document, read with YAML 1.1 rules as the API server's YAML reader does
 * (`yes` is true, `0644` is octal). The PEP forwards it as JSON, so whatever the two readers
 * might disagree on, the API server stores what policy saw.
 */
export function parseYamlBody(body: Buffer): JsonValue {
  const documents = parseAllDocuments(wellFormedUtf8(body), { version: '1.1' });
  const list = Array.isArray(documents) ? documents : [documents];
  if (list.length !== 1) throw new PatchError('malformed', 'a YAML body must hold exactly one document');
  const document = list[0] as { errors: unknown[]; toJSON(): unknown };
  if (document.errors.length > 0) throw new PatchError('malformed', 'the request body is not valid YAML');
  try {
    return toJsonValue(document.toJSON(), '');
  } catch (error) {
    if (error instanceof PatchError) throw error;
    throw new PatchError('malformed', 'the request body is not valid YAML');
  }
}

/** Only what JSON can carry; numbers that YAML 1.1 would read back differently are refused. */
function toJsonValue(value: unknown, path: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || String(value).includes('e')) throw new PatchError('malformed', `the number at "${path}" cannot be carried as JSON exactly`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item, index) => toJsonValue(item, `${path}[${index}]`));
  if (typeof value === 'object') {
    const result: Record<string, JsonValue> = {};
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      Object.defineProperty(result, key, { value: toJsonValue(member, `${path}.${key}`), enumerable: true, writable: true, configurable: true });
    }
    return result;
  }
  throw new PatchError('malformed', `the YAML value at "${path}" has no JSON form (${typeof value})`);
}

/** The body as text; bytes that are not UTF-8 each reader would replace its own way, so they are refused. */
function wellFormedUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new PatchError('malformed', 'the request body is not valid UTF-8');
  }
}
