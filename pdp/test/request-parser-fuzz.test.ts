// Property-based fuzzing of the PDP's parsers of untrusted request bodies (a decision request,
// posted session events): whatever JSON arrives, and whatever is changed in a valid request,
// the parser returns a request or throws `invalid-request` naming the field it refused. Any other
// exception, or an error naming a field the change did not touch, fails the property.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDecisionRequestV1 } from '../src/http/contract-body.ts';
import { parseSessionEvents } from '../src/http/contract-body.ts';
import { PortcullisError } from '../src/errors/portcullis-error.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The outcome: the parsed value, or the field named by a clean `invalid-request`. */
function outcome(parse: (body: unknown) => unknown, body: unknown): { parsed: unknown } | { field: string } {
  try {
    return { parsed: parse(body) };
  } catch (error) {
    assert.ok(error instanceof PortcullisError, `a ${error instanceof Error ? error.name : typeof error} escaped: ${String(error)}`);
    assert.equal(error.code, 'invalid-request');
    const field = error.details?.field;
    assert.equal(typeof field, 'string', 'the error names a field');
    assert.ok((field as string).length > 0);
    assert.ok(error.message.startsWith(`${field as string} `), `the message starts with the field: ${error.message}`);
    return { field: field as string };
  }
}

// ── valid requests ──────────────────────────────────────────────────────────────────────────

const name = fc.string({ minLength: 1, maxLength: 20 });
/** Keys the mutation paths can name unambiguously (no `.` or `[`). */
const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,9}$/);
const anyText = fc.string({ maxLength: 40 });
const uuid = fc.uuid({ version: 4 });

const resource = fc.record(
  { type: name, name, environment: name, labels: fc.dictionary(key, anyText, { maxKeys: 3, noNullPrototype: true }) },
  { requiredKeys: ['type', 'name'], noNullPrototype: true },
);
const query = fc.oneof(anyText, fc.dictionary(key, fc.oneof(anyText, fc.array(anyText, { maxLength: 3 })), { maxKeys: 3, noNullPrototype: true }));
const action = fc.oneof(
  fc.record({ type: fc.constant('sql'), sql: anyText }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('shell'), command: anyText }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('kubernetes'), method: fc.constantFrom('get', 'list', 'create', 'delete'), path: name, query, body: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['type', 'method', 'path'], noNullPrototype: true }),
  fc.record({ type: fc.constant('http'), method: fc.constantFrom('GET', 'POST'), path: name, query, headers: fc.dictionary(key, anyText, { maxKeys: 3, noNullPrototype: true }), body: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['type', 'method', 'path'], noNullPrototype: true }),
  fc.record({ type: fc.constant('connect'), protocol: name, database: anyText, user: anyText, application_name: anyText }, { requiredKeys: ['type', 'protocol'], noNullPrototype: true }),
  fc.record(
    {
      type: fc.constant('mcp'),
      method: fc.constantFrom('tools/call', 'tools/list', 'resources/read', 'prompts/get', 'sampling/createMessage', 'elicitation/create', 'roots/list'),
      tool: name,
      arguments: fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3, noNullPrototype: true }),
      annotations: fc.record({ title: name, readOnlyHint: fc.boolean(), destructiveHint: fc.boolean() }, { requiredKeys: [], noNullPrototype: true }),
      tools: fc.array(fc.record({ name }, { noNullPrototype: true }), { maxLength: 3 }),
      uri: anyText,
      direction: fc.constantFrom('to_client', 'to_server'),
      params: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: ['type', 'method'], noNullPrototype: true },
  ),
);
const decisionRequest = fc.record(
  { subject_token: anyText, resource, action, session: fc.record({ id: name, client_addr: name }, { requiredKeys: [], noNullPrototype: true }), approval_id: uuid },
  { requiredKeys: ['resource', 'action'], noNullPrototype: true },
);

const sessionBase = {
  session: fc.record({ id: name, client_addr: name }, { requiredKeys: ['id'], noNullPrototype: true }),
  protocol: fc.constantFrom('sql', 'kubernetes', 'shell', 'http', 'mcp'),
  resource: fc.record({ type: name, name, environment: name }, { requiredKeys: ['type', 'name'], noNullPrototype: true }),
  event_id: name,
  time: fc.date({ noInvalidDate: true, min: new Date('2000-01-01'), max: new Date('2100-01-01') }).map((date) => date.toISOString()),
  subject_token: name,
};
const count = fc.nat({ max: 1_000_000 });
const sessionEvent = fc.oneof(
  fc.record({ ...sessionBase, event: fc.constant('session.start') }, { requiredKeys: ['session', 'protocol', 'resource', 'event'], noNullPrototype: true }),
  fc.record(
    {
      ...sessionBase,
      event: fc.constant('session.statement'),
      statement: fc.record({ text: anyText, kind: name, method: fc.constantFrom('GET', 'exec'), path: name }, { requiredKeys: ['text'], noNullPrototype: true }),
      decision_id: name,
      decision_reused: fc.boolean(),
      status: fc.constantFrom('success', 'failure'),
      error: anyText,
      duration_ms: fc.double({ min: 0, max: 1e6, noNaN: true }),
      rows: count,
      bytes: count,
      masked_cells: count,
    },
    { requiredKeys: ['session', 'protocol', 'resource', 'event', 'statement', 'decision_id', 'status', 'duration_ms'], noNullPrototype: true },
  ),
  fc.record(
    { ...sessionBase, event: fc.constant('session.end'), duration_ms: fc.double({ min: 0, max: 1e6, noNaN: true }), statements: count, rows: count, bytes: count, masked_cells: count, reason: name },
    { requiredKeys: ['session', 'protocol', 'resource', 'event', 'duration_ms', 'statements', 'rows', 'bytes', 'masked_cells'], noNullPrototype: true },
  ),
);

// ── mutations ───────────────────────────────────────────────────────────────────────────────

/** Every path in a JSON value, as the parsers name fields (`a.b`, `events[2].session.id`). */
function paths(value: Json, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => [`${at}[${index}]`, ...paths(item, `${at}[${index}]`)]);
  if (value !== null && typeof value === 'object') {
    // Keys a path cannot spell (inside free-form JSON such as action.body) are left alone.
    return Object.entries(value).filter(([key]) => /^[A-Za-z0-9_]+$/.test(key)).flatMap(([key, item]) => {
      const path = at === '' ? key : `${at}.${key}`;
      return [path, ...paths(item, path)];
    });
  }
  return [];
}

/** A deep copy with the value at `path` replaced (`undefined`: removed). */
function mutate(value: Json, path: string, replacement: Json | undefined): Json {
  const steps = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  const copy = structuredClone(value);
  let parent: Record<string, Json> | Json[] = copy as Record<string, Json>;
  for (const [index, step] of steps.entries()) {
    const key: string | number = step.startsWith('[') ? Number(step.slice(1, -1)) : step;
    if (index === steps.length - 1) {
      if (replacement === undefined) {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Record<string, Json>)[key as string];
      } else {
        (parent as Record<string | number, Json>)[key] = replacement;
      }
    } else {
      parent = (parent as Record<string | number, Json>)[key] as Record<string, Json>;
    }
  }
  return copy;
}

/** The refused field is where the change was, or inside it, or what holds it. */
function related(field: string, path: string): boolean {
  return field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[`) || path.startsWith(`${field}.`) || path.startsWith(`${field}[`)
    // A removed array element shifts the others: any element of that array may be named.
    || field.replace(/\[\d+\]/g, '[]').startsWith(path.replace(/\[\d+\]$/, '[]'));
}

const hostile: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>('', 'x'.repeat(300), 'x'.repeat(1024 * 1024 + 1), -1, 1.5, 1e308, [], {}, null, true, '__proto__', 'constructor', { __proto__: { polluted: true } } as unknown as Json),
);

function checkMutations(parse: (body: unknown) => unknown, valid: Json, choose: number, replacement: Json, remove: boolean): void {
  const all = paths(valid);
  if (all.length === 0) return;
  const path = all[choose % all.length]!;
  const mutated = mutate(valid, path, remove ? undefined : replacement);
  const result = outcome(parse, mutated);
  // Without `events` a body is read as one event: then any of its fields may be the one missing.
  if ('field' in result && !(remove && path === 'events')) {
    assert.ok(result.field !== 'body' && related(result.field, path), `changed ${path}, refused ${result.field}`);
  }
}

describe('the decision-request parser under fuzzing', () => {
  it('arbitrary JSON values: a request or a clean invalid-request naming a field', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (body) => void outcome(parseDecisionRequestV1, body)), { numRuns: RUNS });
    fc.assert(fc.property(fc.anything(), (body) => void outcome(parseDecisionRequestV1, body)), { numRuns: RUNS });
  });

  it('valid requests parse to themselves', () => {
    fc.assert(
      fc.property(decisionRequest, (request) => {
        const result = outcome(parseDecisionRequestV1, request);
        assert.ok('parsed' in result, `refused ${JSON.stringify(result)}`);
        assert.deepEqual(result.parsed, { subject_token: '', ...request });
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps a member named __proto__ as the body\'s own member, at any depth (a copy by assignment made it a prototype)', () => {
    const body = JSON.parse('{"__proto__":false,"spec":{"__proto__":{"privileged":true},"x":1}}') as unknown;
    const request = { resource: { type: 'kubernetes', name: 'prod-cluster' }, action: { type: 'kubernetes', method: 'POST', path: '/api/v1/namespaces/a/pods', body } };
    const result = outcome(parseDecisionRequestV1, request);
    assert.ok('parsed' in result, `refused ${JSON.stringify(result)}`);
    const parsed = (result.parsed as { action: { body: Record<string, unknown> } }).action.body;
    assert.deepEqual(Object.keys(parsed), ['__proto__', 'spec']);
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.deepEqual(JSON.stringify(parsed), JSON.stringify(body));
  });

  it('a valid request with one field removed or replaced by anything: parsed, or that field named', () => {
    fc.assert(
      fc.property(decisionRequest, fc.nat(), hostile, fc.boolean(), (request, choose, replacement, remove) =>
        checkMutations(parseDecisionRequestV1, request as unknown as Json, choose, replacement, remove)),
      { numRuns: RUNS * 2 },
    );
  });

  it('unknown fields anywhere are ignored, never a crash', () => {
    fc.assert(
      fc.property(decisionRequest, fc.nat(), key, fc.jsonValue({ maxDepth: 2 }), (request, choose, extra, value) => {
        const objects = ['', ...paths(request as unknown as Json)].filter((path) => {
          const found = path === '' ? request : path.split('.').reduce<unknown>((node, step) => (node as Record<string, unknown>)?.[step], request);
          return found !== null && typeof found === 'object' && !Array.isArray(found);
        });
        const at = objects[choose % objects.length]!;
        const mutated = mutate(request as unknown as Json, at === '' ? extra : `${at}.${extra}`, value as Json);
        void outcome(parseDecisionRequestV1, mutated);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the session-event parser under fuzzing', () => {
  it('arbitrary JSON values: events or a clean invalid-request naming a field', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (body) => void outcome(parseSessionEvents, body)), { numRuns: RUNS });
    fc.assert(fc.property(fc.anything(), (body) => void outcome(parseSessionEvents, body)), { numRuns: RUNS });
    fc.assert(fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }), (events) => void outcome(parseSessionEvents, { events })), { numRuns: RUNS });
  });

  it('valid events parse, alone and batched', () => {
    fc.assert(
      fc.property(fc.array(sessionEvent, { minLength: 1, maxLength: 5 }), (events) => {
        const batched = outcome(parseSessionEvents, { events });
        assert.ok('parsed' in batched, `refused ${JSON.stringify(batched)}`);
        assert.equal((batched.parsed as unknown[]).length, events.length);
        const alone = outcome(parseSessionEvents, events[0]);
        assert.ok('parsed' in alone);
      }),
      { numRuns: RUNS },
    );
  });

  it('a valid batch with one field removed or replaced by anything: parsed, or that field named', () => {
    fc.assert(
      fc.property(fc.array(sessionEvent, { minLength: 1, maxLength: 3 }), fc.nat(), hostile, fc.boolean(), (events, choose, replacement, remove) =>
        checkMutations(parseSessionEvents, { events } as unknown as Json, choose, replacement, remove)),
      { numRuns: RUNS * 2 },
    );
  });
});
