import { fail, object, text } from './field-readers.ts';
import type { ActionV1, DecisionRequestV1, ResourceV1, SessionV1, SqlParameterV1 } from './decision-contract-v1.ts';

const MAX_TEXT = 1024 * 1024;
const MAX_NAME = 256;

/** Checks an untrusted request body against the V1 contract; throws `invalid-request` naming the field. */
export function parseDecisionRequestV1(body: unknown): DecisionRequestV1 {
  const root = object(body, 'body');
  const subjectToken = root.subject_token;
  if (subjectToken !== undefined && typeof subjectToken !== 'string') fail('subject_token', 'must be a string');
  return {
    subject_token: (subjectToken as string | undefined) ?? '',
    resource: parseResource(root.resource),
    action: parseAction(root.action),
    ...(root.session === undefined ? {} : { session: parseSession(root.session) }),
    ...(root.approval_id === undefined ? {} : { approval_id: approvalId(root.approval_id) }),
    ...(root.defer_approval === undefined ? {} : { defer_approval: flag(root.defer_approval, 'defer_approval') }),
  };
}

function parseResource(value: unknown): ResourceV1 {
  const resource = object(value, 'resource');
  const labels = resource.labels === undefined ? undefined : stringMap(resource.labels, 'resource.labels');
  return {
    type: text(resource.type, 'resource.type', MAX_NAME),
    name: text(resource.name, 'resource.name', MAX_NAME),
    ...(resource.environment === undefined ? {} : { environment: text(resource.environment, 'resource.environment', MAX_NAME) }),
    ...(labels ? { labels } : {}),
  };
}

function parseAction(value: unknown): ActionV1 {
  const action = object(value, 'action');
  switch (action.type) {
    case 'sql':
      return {
        type: 'sql',
        sql: text(action.sql, 'action.sql', MAX_TEXT, true),
        ...(action.parameters === undefined ? {} : { parameters: sqlParameters(action.parameters) }),
      };
    case 'shell':
      return { type: 'shell', command: text(action.command, 'action.command', MAX_TEXT, true) };
    case 'kubernetes':
      return {
        type: 'kubernetes',
        method: text(action.method, 'action.method', 16),
        path: text(action.path, 'action.path', 8192),
        ...(action.query === undefined ? {} : { query: query(action.query, 'action.query') }),
        ...(action.body === undefined ? {} : { body: action.body }),
      };
    case 'http':
      return {
        type: 'http',
        method: text(action.method, 'action.method', 16),
        path: text(action.path, 'action.path', 8192),
        ...(action.query === undefined ? {} : { query: query(action.query, 'action.query') }),
        ...(action.headers === undefined ? {} : { headers: stringMap(action.headers, 'action.headers') }),
        ...(action.body === undefined ? {} : { body: action.body }),
      };
    case 'connect':
      return {
        type: 'connect',
        protocol: text(action.protocol, 'action.protocol', MAX_NAME),
        ...(action.database === undefined ? {} : { database: text(action.database, 'action.database', MAX_NAME, true) }),
        ...(action.user === undefined ? {} : { user: text(action.user, 'action.user', MAX_NAME, true) }),
        ...(action.application_name === undefined ? {} : { application_name: text(action.application_name, 'action.application_name', MAX_NAME, true) }),
      };
    case undefined:
      return fail('action.type', 'is required');
    default:
      return fail('action.type', 'must be one of sql, kubernetes, shell, http, connect');
  }
}

const APPROVAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function approvalId(value: unknown): string {
  const id = text(value, 'approval_id', 64);
  if (!APPROVAL_ID.test(id)) fail('approval_id', 'must be an approval id (a UUID)');
  return id;
}

function parseSession(value: unknown): SessionV1 {
  const session = object(value, 'session');
  return {
    ...(session.id === undefined ? {} : { id: text(session.id, 'session.id', MAX_NAME) }),
    ...(session.client_addr === undefined ? {} : { client_addr: text(session.client_addr, 'session.client_addr', MAX_NAME) }),
  };
}



function stringMap(value: unknown, field: string): Record<string, string> {
  const map = object(value, field);
  for (const [key, entry] of Object.entries(map)) {
    if (typeof entry !== 'string') fail(`${field}.${key}`, 'must be a string');
  }
  return map as Record<string, string>;
}

function query(value: unknown, field: string): string | Record<string, string | string[]> {
  if (typeof value === 'string') return value;
  const map = object(value, field);
  for (const [key, entry] of Object.entries(map)) {
    const ok = typeof entry === 'string' || (Array.isArray(entry) && entry.every((item) => typeof item === 'string'));
    if (!ok) fail(`${field}.${key}`, 'must be a string or an array of strings');
  }
  return map as Record<string, string | string[]>;
}

// PostgreSQL's limit on parameters of one statement.
const MAX_PARAMETERS = 65535;

function sqlParameters(value: unknown): SqlParameterV1[] {
  if (!Array.isArray(value)) fail('action.parameters', 'must be an array');
  if (value.length > MAX_PARAMETERS) fail('action.parameters', `must have at most ${MAX_PARAMETERS} entries`);
  let total = 0;
  return value.map((entry, index) => {
    const field = `action.parameters[${index}]`;
    const parameter = object(entry, field);
    if (parameter.value !== null && typeof parameter.value !== 'string') fail(`${field}.value`, 'must be a string or null');
    total += typeof parameter.value === 'string' ? parameter.value.length : 0;
    if (total > MAX_TEXT) fail('action.parameters', `must hold at most ${MAX_TEXT} characters in all`);
    const typeOid = parameter.type_oid;
    if (typeOid !== undefined && (!Number.isInteger(typeOid) || (typeOid as number) < 0 || (typeOid as number) > 0xffffffff)) fail(`${field}.type_oid`, 'must be an unsigned 32-bit integer');
    return { value: parameter.value as string | null, ...(typeOid === undefined ? {} : { type_oid: typeOid as number }) };
  });
}

function flag(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') fail(field, 'must be a boolean');
  return value;
}
