import { isDeepStrictEqual } from 'node:util';
import { asObject, asString, type JsonObject } from '../json-fields.ts';
import { HELD_MEMBERS } from './ocsf-held-members.ts';

/**
 * `unmapped.portcullis` keeps what the OCSF attributes of its record do not: every member of the
 * event body that they hold exactly (ocsf-held-members.ts) is stored once, in them, and read back
 * from them. Readers get the whole body from `auditBodyOf`, for records written either way.
 *
 * A record whose `unmapped.portcullis` has `event` was written with the body whole (before
 * bodies were stored once): it is read as it is. The writer never stores `event` again (it is
 * `metadata.event_code`), so its presence tells the two forms apart exactly.
 *
 * A decision's SQL text is stored once, as `query_info.query_string`: the enriched action's
 * `sql` is read from there, and the text of its only statement, when equal, from `sql`.
 *
 * `whole` (rare) names members the body has in a form the attributes would misstate — absent
 * where they hold something, or an object the attributes hold keys of that it lacks — which
 * are then stored as they are and never completed from the attributes.
 */
export const WHOLE_MEMBERS = 'whole';

/** The members of `body` the OCSF attributes of `record` do not hold, plus `whole` when needed. */
export function compactBody(record: JsonObject, body: JsonObject): JsonObject {
  const event = asString(body.event) ?? 'unknown';
  const kept: JsonObject = { ...body };
  delete kept.event;
  const whole: string[] = [];
  for (const held of HELD_MEMBERS) {
    if (!held.events(event)) continue;
    const read = held.read(record);
    if (read === undefined) continue;
    const value = body[held.member];
    if (value === undefined) {
      whole.push(held.member);
      continue;
    }
    if (isDeepStrictEqual(value, read)) {
      delete kept[held.member];
      continue;
    }
    const readObject = plainObject(read);
    const valueObject = plainObject(value);
    if (!readObject || !valueObject) continue;
    // Held in part: keep the sub-members the attributes do not hold exactly.
    if (Object.keys(readObject).some((key) => !(key in valueObject))) {
      whole.push(held.member);
      continue;
    }
    const rest: JsonObject = {};
    for (const [key, member] of Object.entries(valueObject)) {
      if (!(key in readObject) || !isDeepStrictEqual(member, readObject[key])) rest[key] = member;
    }
    kept[held.member] = rest;
  }
  foldStatementText(event, body, kept, whole);
  if (whole.length > 0) kept[WHOLE_MEMBERS] = whole;
  return kept;
}

/**
 * The event body of an audit record, whole: `unmapped.portcullis` with the members its OCSF
 * attributes hold filled in (the chain link, `redacted` and `whole` left as they are). Undefined
 * for anything that is not an audit record (a digest, a checkpoint, garbage).
 */
export function auditBodyOf(record: unknown): JsonObject | undefined {
  const attributes = asObject(record);
  const stored = asObject(asObject(attributes?.unmapped)?.portcullis);
  if (!attributes || !stored) return undefined;
  if (isWholeBody(stored)) return stored;
  const event = eventOf(attributes);
  const whole = Array.isArray(stored[WHOLE_MEMBERS]) ? (stored[WHOLE_MEMBERS] as unknown[]) : [];
  const body: JsonObject = { event };
  for (const held of HELD_MEMBERS) {
    if (!held.events(event) || whole.includes(held.member)) continue;
    const read = held.read(attributes);
    if (read === undefined) continue;
    const value = stored[held.member];
    if (value === undefined) body[held.member] = read;
    else {
      const readObject = plainObject(read);
      const valueObject = plainObject(value);
      body[held.member] = readObject && valueObject ? { ...readObject, ...valueObject } : value;
    }
  }
  for (const [key, value] of Object.entries(stored)) {
    if (!(key in body) && key !== WHOLE_MEMBERS) body[key] = value;
  }
  if (!whole.includes('action')) unfoldStatementText(event, body);
  return body;
}

/** One member of the event body (as `auditBodyOf(record)?.[member]`, without building the rest). */
export function auditBodyMember(record: unknown, member: string): unknown {
  const attributes = asObject(record);
  const stored = asObject(asObject(attributes?.unmapped)?.portcullis);
  if (!attributes || !stored) return undefined;
  if (isWholeBody(stored)) return stored[member];
  const event = eventOf(attributes);
  if (member === 'event') return event;
  if (member === 'action') return auditBodyOf(record)?.action;
  const held = HELD_MEMBERS.find((candidate) => candidate.member === member && candidate.events(event));
  const whole = Array.isArray(stored[WHOLE_MEMBERS]) && (stored[WHOLE_MEMBERS] as unknown[]).includes(member);
  const read = held && !whole ? held.read(attributes) : undefined;
  const value = stored[member];
  if (read === undefined) return value;
  if (value === undefined) return read;
  const readObject = plainObject(read);
  const valueObject = plainObject(value);
  return readObject && valueObject ? { ...readObject, ...valueObject } : value;
}

/**
 * A decision's action with one statement: the statement's text, when it is the action's `sql`,
 * is not stored again. One statement without a text at all would read back otherwise, so such an
 * action is stored whole.
 */
function foldStatementText(event: string, body: JsonObject, kept: JsonObject, whole: string[]): void {
  const action = plainObject(body.action);
  const only = onlyStatementOf(event, action);
  if (!action || !only || whole.includes('action')) return;
  if (!('text' in only)) {
    whole.push('action');
    kept.action = action;
    return;
  }
  const stored = plainObject(kept.action);
  if (!stored || only.text !== action.sql) return;
  const { text: _text, ...rest } = only;
  kept.action = { ...stored, statements: [rest] };
}

function unfoldStatementText(event: string, body: JsonObject): void {
  const action = plainObject(body.action);
  const only = onlyStatementOf(event, action);
  if (!action || !only || 'text' in only) return;
  body.action = { ...action, statements: [{ ...only, text: action.sql }] };
}

/** The only statement of a decision's action that has an SQL text, if it has exactly one. */
function onlyStatementOf(event: string, action: JsonObject | undefined): JsonObject | undefined {
  if (event !== 'decision' || typeof action?.sql !== 'string' || !Array.isArray(action.statements) || action.statements.length !== 1) return undefined;
  return plainObject(action.statements[0]);
}

/** Written before bodies were stored once: the body is all there, `event` included. */
function isWholeBody(stored: JsonObject): boolean {
  return typeof stored.event === 'string';
}

function eventOf(attributes: JsonObject): string {
  return asString(asObject(attributes.metadata)?.event_code) ?? 'unknown';
}

function plainObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}
