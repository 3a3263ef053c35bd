import { asArray, asObject, asString } from '../audit/json-fields.ts';
import type { EnrichedAction } from '../enrichment/action-enricher.ts';
import type { PolicyInput } from '../decisions/policy-input.ts';
import { decisionRecordOf, UnreplayableRecordError } from './decision-record.ts';

/**
 * Rebuilds the `input` policy evaluated for a recorded decision, member for member as
 * decisions/policy-input.ts built it: the record keeps the enriched action, resource, session,
 * the PEP with its roles and the principal (or why its token failed); the defaults policy saw
 * are filled in the same way. What the trail withheld as credentials (`redacted`) stays absent:
 * see `withheldFromInput`. Throws UnreplayableRecordError when a member is missing.
 */
export function policyInputOfRecord(record: unknown): PolicyInput {
  const decision = decisionRecordOf(record);
  if (!decision) throw new UnreplayableRecordError('not a decision record');
  const { body } = decision;
  const missing = (member: string): never => {
    throw new UnreplayableRecordError(`decision ${decision.decisionId} has no ${member}: it cannot be evaluated again`);
  };
  const pep = asObject(body.pep) ?? missing('pep');
  const pepSub = asString(pep.sub) ?? missing('pep.sub');
  const pepRoles = Array.isArray(pep.roles) ? strings(pep.roles) ?? missing('pep.roles') : missing('pep.roles');
  const resource = asObject(body.resource) ?? missing('resource');
  const action = asObject(body.action) ?? missing('action');
  if (typeof action.type !== 'string') missing('action.type');
  const session = body.session === null ? {} : (asObject(body.session) ?? missing('session'));
  return {
    principal: principalOf(asObject(body.principal) ?? missing('principal'), missing),
    pep: { sub: pepSub, roles: pepRoles },
    resource: { environment: '', labels: {}, ...resource },
    action: action as unknown as EnrichedAction,
    session: { ...session },
  };
}

/**
 * Paths of the rebuilt input's members the trail withheld as credentials: policy saw them, the
 * record does not. Every one is named, a SQL text's included: the trail lists a path only where
 * its redaction changed what it was handed, and enrichment had already redacted a statement's
 * SQL secrets before policy read it, so a listed `action.sql` held a credential (a token, a key,
 * a URL's password) in the text policy evaluated.
 */
export function withheldFromInput(record: unknown): string[] {
  const body = decisionRecordOf(record)?.body;
  if (!body) return [];
  const inputMembers = ['principal', 'pep', 'resource', 'action', 'session'];
  return asArray(body.redacted)
    .filter((path): path is string => typeof path === 'string')
    .filter((path) => inputMembers.some((member) => path === member || path.startsWith(`${member}.`) || path.startsWith(`${member}[`)));
}

function principalOf(principal: Record<string, unknown>, missing: (member: string) => never): Record<string, unknown> {
  if (principal.authenticated === false) {
    return { authenticated: false, error: asString(principal.error) ?? missing('principal.error'), sub: null, iss: null, kind: 'agent', roles: [] };
  }
  if (principal.authenticated !== true) missing('principal.authenticated');
  const kind = principal.kind === 'agent' || principal.kind === 'human' ? principal.kind : missing('principal.kind');
  return {
    authenticated: true,
    error: null,
    sub: asString(principal.sub) ?? missing('principal.sub'),
    iss: asString(principal.iss) ?? missing('principal.iss'),
    kind,
    roles: Array.isArray(principal.roles) ? strings(principal.roles) ?? missing('principal.roles') : missing('principal.roles'),
  };
}

function strings(values: readonly unknown[]): string[] | undefined {
  return values.every((value): value is string => typeof value === 'string') ? [...values] : undefined;
}
