import { isIP } from 'node:net';
import type { AuditStream } from '../audit-event.ts';
import { redactCredentials, type SqlTextRedactor } from './credential-redaction.ts';
import { asArray, asNonNegative, asObject, asString, type JsonObject } from '../json-fields.ts';
import { observablesOf, type OcsfObservable } from './ocsf-observables.ts';
import { compactBody, WHOLE_MEMBERS } from './portcullis-body.ts';
import { actionActivity, protocolClass, protocolOf, resourceDetails, sessionObjects, type OcsfActionActivity } from './ocsf-action-class.ts';
import {
  ACTIVITY_CAPTION_OTHER, ACTIVITY_OTHER, API_ACTIVITY, BASE_EVENT, CONTROL_ACTION, DATASTORE_ACTIVITY, DISPOSITION, ENTITY_MANAGEMENT, OCSF_VERSION, PROCESS_ACTIVITY,
  SEVERITY, STATUS, USER_ACCESS_MANAGEMENT, USER_TYPE, activityName,
  type ControlActionId, type DispositionId, type OcsfClass, type SeverityId, type StatusId, type UserTypeId,
} from './ocsf-catalogue.ts';

/** One link of a hash chain (docs/audit-events.md); set by `HashChain.link`. */
export interface ChainLink {
  readonly producer_id: string;
  readonly stream: AuditStream;
  readonly seq: number;
  readonly prev_hash: string | null;
  readonly hash: string;
}

/**
 * `unmapped.portcullis`: the members of the event body (credentials removed) that the OCSF
 * attributes do not hold (`auditBodyOf` reads the whole body back), then the chain link.
 */
export interface PortcullisFields {
  /** Records written before bodies were stored once have it; the name is `metadata.event_code`. */
  readonly event?: string;
  /** Paths of members removed as credentials, when any were. */
  readonly redacted?: readonly string[];
  readonly chain?: ChainLink;
  readonly [field: string]: unknown;
}

export interface OcsfMetadata {
  readonly version: string;
  readonly uid: string;
  readonly product: { readonly name: string; readonly vendor_name: string; readonly version: string };
  readonly log_name: string;
  readonly profiles: readonly string[];
  /** The Portcullis event name (decision, session.statement, session.statements, approval.approved …). */
  readonly event_code: string;
  /** The session id, else the decision id: what ties a decision, its approval and its statements. */
  readonly correlation_uid?: string;
}

/** An audit record: an OCSF 1.8 event plus the Portcullis fields under `unmapped.portcullis`. */
export interface OcsfRecord {
  readonly class_uid: number;
  readonly class_name: string;
  readonly category_uid: number;
  readonly category_name: string;
  readonly activity_id: number;
  readonly activity_name: string;
  readonly type_uid: number;
  readonly type_name: string;
  readonly severity_id: number;
  readonly severity: string;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly status_id: number;
  readonly status: string;
  readonly message: string;
  readonly metadata: OcsfMetadata;
  readonly observables?: readonly OcsfObservable[];
  readonly unmapped: { readonly portcullis: PortcullisFields };
  readonly [attribute: string]: unknown;
}

export interface AuditEventInput {
  readonly stream: AuditStream;
  readonly body: Record<string, unknown>;
}

export interface OcsfProduct {
  /** The Portcullis version that wrote the record. */
  readonly version: string;
  /** Replaces the secrets of any `sql` text in a body: the last line for texts no analysis saw (the Data API's input). */
  readonly redactSqlText: SqlTextRedactor;
}

/** Body members the record itself uses under `unmapped.portcullis`. */
const RESERVED_BODY_MEMBERS = ['chain', 'redacted', WHOLE_MEMBERS];

/**
 * Maps one audit event body (decision, data-query, session.*, approval.*) to its OCSF record.
 * Pure: the same event gives the same record. Nothing of the body is lost: what the OCSF
 * attributes do not hold is kept under `unmapped.portcullis` (credential-named members removed),
 * and `auditBodyOf` gives the body back whole.
 */
export function toOcsfRecord(event: AuditEventInput, product: OcsfProduct): OcsfRecord {
  for (const name of RESERVED_BODY_MEMBERS) {
    if (name in event.body) throw new TypeError(`audit body may not have a member named "${name}": the record uses it`);
  }
  const { value: body, redacted } = redactCredentials(event.body, product.redactSqlText);
  const name = asString(body.event) ?? 'unknown';
  const mapped = mapEvent(name, body);
  const control = mapped.control;
  const record: Record<string, unknown> = {
    class_uid: mapped.ocsfClass.uid,
    class_name: mapped.ocsfClass.name,
    category_uid: mapped.ocsfClass.categoryUid,
    category_name: mapped.ocsfClass.categoryName,
    activity_id: mapped.activityId,
    activity_name: mapped.activityName,
    type_uid: mapped.ocsfClass.uid * 100 + mapped.activityId,
    // The caption of type_uid: for activity 99 "<class>: Other", whatever activity_name says.
    type_name: `${mapped.ocsfClass.name}: ${mapped.ocsfClass.activities[mapped.activityId] ?? ACTIVITY_CAPTION_OTHER}`,
    severity_id: mapped.severityId,
    severity: SEVERITY[mapped.severityId],
    time: eventTime(body.time),
    status_id: mapped.status.id,
    status: mapped.status.name ?? STATUS[mapped.status.id],
    ...(mapped.status.code ? { status_code: mapped.status.code } : {}),
    ...(mapped.status.detail ? { status_detail: mapped.status.detail } : {}),
    message: mapped.message,
    metadata: {
      version: OCSF_VERSION,
      uid: mapped.uid,
      product: { name: 'Portcullis', vendor_name: 'Portcullis', version: product.version },
      log_name: `portcullis.${event.stream}.v1`,
      profiles: control ? ['security_control'] : [],
      event_code: name,
      ...(mapped.correlationUid ? { correlation_uid: mapped.correlationUid } : {}),
      // Session events: when the PDP received it (`time` is the PEP's own claim).
      ...(typeof body.received_at === 'string' ? { logged_time: eventTime(body.received_at) } : {}),
    },
    ...(mapped.actor ? { actor: mapped.actor } : {}),
    ...(mapped.srcEndpoint ? { src_endpoint: mapped.srcEndpoint } : {}),
    ...mapped.attributes,
    ...(control
      ? {
          action_id: control.actionId,
          action: control.actionName ?? CONTROL_ACTION[control.actionId],
          disposition_id: control.dispositionId,
          disposition: control.dispositionName ?? DISPOSITION[control.dispositionId],
          ...(control.policy ? { policy: control.policy } : {}),
        }
      : {}),
  };
  const observables = observablesOf(record);
  if (observables.length > 0) record.observables = observables;
  // What the attributes above hold is not stored again: `auditBodyOf` reads the body back whole.
  record.unmapped = { portcullis: compactBody(record, { ...body, event: name, ...(redacted.length > 0 ? { redacted } : {}) }) };
  return record as unknown as OcsfRecord;
}

interface MappedEvent {
  ocsfClass: OcsfClass;
  activityId: number;
  activityName: string;
  severityId: SeverityId;
  status: { id: StatusId; name?: string; code?: string; detail?: string };
  message: string;
  uid: string;
  correlationUid?: string;
  actor?: JsonObject;
  srcEndpoint?: JsonObject;
  attributes: JsonObject;
  control?: {
    actionId: ControlActionId;
    actionName?: string;
    dispositionId: DispositionId;
    dispositionName?: string;
    policy?: JsonObject;
  };
}

function mapEvent(name: string, body: JsonObject): MappedEvent {
  if (name === 'decision') return decision(body);
  if (name === 'data-query') return dataQuery(body);
  if (name.startsWith('session.')) return sessionEvent(name, body);
  if (name.startsWith('approval.')) return approvalEvent(name, body);
  if (name === 'shadow.difference') return shadowDifference(body);
  if (name === 'bundle.activated') return bundleActivated(body);
  return {
    ocsfClass: BASE_EVENT,
    activityId: ACTIVITY_OTHER,
    activityName: name,
    severityId: 1,
    status: { id: 0 },
    message: `portcullis event ${name}`,
    uid: asString(body.event_id) ?? asString(body.decision_id) ?? `${name}@${asString(body.time) ?? ''}`,
    attributes: {},
  };
}

// --- decisions ---------------------------------------------------------------------------

const EFFECT_OUTCOME: Readonly<Record<string, Pick<MappedEvent, 'severityId' | 'status' | 'control'>>> = {
  allow: { severityId: 1, status: { id: 1 }, control: { actionId: 1, dispositionId: 1 } },
  // A denial is worth a look (an agent tried what policy forbids) but is the control working: Medium.
  deny: { severityId: 3, status: { id: 2 }, control: { actionId: 2, dispositionId: 2 } },
  approval_required: {
    severityId: 2,
    status: { id: 99, name: 'Approval Required' },
    control: { actionId: 99, actionName: 'Approval Required', dispositionId: 99, dispositionName: 'Approval Required' },
  },
};

function decision(body: JsonObject): MappedEvent {
  const decisionId = asString(body.decision_id) ?? 'unknown';
  const effect = asString(body.effect) ?? 'deny';
  const outcome = EFFECT_OUTCOME[effect] ?? EFFECT_OUTCOME.deny!;
  const resource = asObject(body.resource);
  const session = asObject(body.session);
  const action = asObject(body.action) ?? { type: 'unknown' };
  const activity = actionActivity(action, resource, decisionId);
  const reasons = asArray(body.reasons).map(asObject).filter((reason): reason is JsonObject => reason !== undefined);
  const codes = reasons.map((reason) => asString(reason.code)).filter((code): code is string => !!code);
  const detail = reasons.map((reason) => `${asString(reason.code) ?? ''}: ${asString(reason.message) ?? ''}`).join('; ');
  const revision = asString(body.policy_revision);
  const principal = asObject(body.principal);
  return {
    ocsfClass: activity.ocsfClass,
    activityId: activity.activityId,
    activityName: activity.activityName,
    severityId: outcome.severityId,
    status: { ...outcome.status, ...(codes[0] ? { code: codes[0] } : {}), ...(detail ? { detail } : {}) },
    message: `${effect} ${asString(action.type) ?? 'action'} on ${asString(resource?.name) ?? 'unknown resource'} for ${principalName(principal)}: ${short(activity.summary)}${codes.length > 0 ? ` [${codes.join(', ')}]` : ''}`,
    uid: decisionId,
    correlationUid: asString(session?.id) ?? decisionId,
    actor: principalActor(principal, session),
    ...sourceFor(activity.ocsfClass, session, asObject(body.pep)),
    attributes: activity.attributes,
    control: {
      ...outcome.control!,
      policy: { name: 'portcullis', is_applied: true, ...(revision ? { uid: revision, version: revision } : {}) },
    },
  };
}

// OPA's Data API: a client asked the policy for a document; no access was granted or refused.
function dataQuery(body: JsonObject): MappedEvent {
  const decisionId = asString(body.decision_id) ?? 'unknown';
  const path = asString(body.path) ?? '';
  const pep = asString(asObject(body.pep)?.sub);
  const url = `/v1/data/${path}`;
  return {
    ocsfClass: API_ACTIVITY,
    activityId: 2,
    activityName: activityName(API_ACTIVITY, 2),
    severityId: 1,
    status: { id: 1, ...(body.result === null ? { detail: 'undefined document' } : {}) },
    message: `data query ${url}${pep ? ` by ${pep}` : ''}`,
    uid: decisionId,
    correlationUid: decisionId,
    actor: { user: pep ? { uid: pep, name: pep, type_id: 4, type: USER_TYPE[4] } : { name: 'anonymous', type_id: 0, type: USER_TYPE[0] } },
    srcEndpoint: { name: pep ?? 'unknown' },
    attributes: {
      api: { operation: 'query', request: { uid: decisionId }, service: { name: 'Portcullis Data API' } },
      http_request: { url: { path: url, url_string: url } },
    },
  };
}

// --- sessions ----------------------------------------------------------------------------

function sessionEvent(name: string, body: JsonObject): MappedEvent {
  const session = asObject(body.session);
  const sessionId = asString(session?.id) ?? 'unknown';
  const resource = asObject(body.resource);
  const protocol = protocolOf(asString(body.protocol), resource);
  const principal = asObject(body.principal);
  const uid = asString(body.event_id) ?? `${sessionId}:${name}:${asString(body.time) ?? ''}`;
  const target = `${asString(resource?.name) ?? 'unknown resource'}`;
  const durationMs = asNonNegative(body.duration_ms);
  const base = {
    severityId: 1 as const,
    uid,
    correlationUid: sessionId,
    actor: principalActor(principal, session),
  };

  if (name === 'session.statement') {
    const statement = asObject(body.statement) ?? {};
    const decisionId = asString(body.decision_id);
    const activity = actionActivity(statementAction(protocol, statement), resource, decisionId ?? uid);
    const failed = body.status === 'failure';
    const error = asString(body.error);
    const attributes = { ...activity.attributes };
    const queryInfo = asObject(attributes.query_info);
    if (queryInfo) {
      // query_time is a timestamp (when the statement ran); how long it took is the record's duration.
      attributes.query_info = {
        ...queryInfo,
        query_time: eventTime(body.time),
        ...(asNonNegative(body.bytes) === undefined ? {} : { bytes: body.bytes }),
      };
    }
    return {
      ...base,
      ocsfClass: activity.ocsfClass,
      activityId: activity.activityId,
      activityName: activity.activityName,
      status: { id: failed ? 2 : 1, ...(error ? { detail: error } : {}) },
      message: `session ${sessionId} statement on ${target} by ${principalName(principal)}: ${short(activity.summary)}`,
      ...sourceFor(activity.ocsfClass, session, asObject(body.pep)),
      attributes: { ...attributes, ...(durationMs === undefined ? {} : { duration: Math.round(durationMs) }) },
    };
  }

  if (name === 'session.statements') {
    const entries = asArray(body.statements).map(asObject).filter((entry): entry is JsonObject => entry !== undefined);
    const totals = asObject(body.totals) ?? {};
    const count = asNonNegative(totals.statements) ?? entries.length;
    const failures = asNonNegative(totals.failures) ?? entries.filter((entry) => entry.status === 'failure').length;
    const activity = statementRunActivity(protocol, entries, resource, uid);
    const attributes = { ...activity.attributes };
    const queryInfo = asObject(attributes.query_info);
    const span = statementSpan(entries);
    if (queryInfo) {
      attributes.query_info = {
        ...queryInfo,
        ...(span ? { query_time: span.start } : {}),
        ...(asNonNegative(totals.bytes) === undefined ? {} : { bytes: totals.bytes }),
      };
    }
    const firstError = asString(entries.find((entry) => entry.status === 'failure')?.error);
    return {
      ...base,
      ocsfClass: activity.ocsfClass,
      activityId: activity.activityId,
      activityName: activity.activityName,
      status: failures > 0
        ? { id: 2, detail: `${failures} of ${count} statements failed${firstError ? `; the first: ${short(firstError)}` : ''}` }
        : { id: 1 },
      message: `session ${sessionId} ran ${count} statements on ${target} by ${principalName(principal)}`,
      ...sourceFor(activity.ocsfClass, session, asObject(body.pep)),
      attributes: {
        ...attributes,
        count,
        // The span the run covers, so duration = end_time - start_time; the statements' summed run time is totals.duration_ms.
        ...(span ? { start_time: span.start, end_time: span.end, duration: span.end - span.start } : {}),
      },
    };
  }

  const ocsfClass = protocolClass(protocol);
  const starting = name === 'session.start';
  const ending = name === 'session.end';
  const activityId = ocsfClass === DATASTORE_ACTIVITY ? (starting ? 3 : ACTIVITY_OTHER)
    : ocsfClass === PROCESS_ACTIVITY ? (starting ? 1 : ending ? 2 : ACTIVITY_OTHER)
      : ACTIVITY_OTHER;
  const recording = name === 'session.recording' ? asObject(body.recording) : undefined;
  const otherName = starting ? 'Session Start' : ending ? (ocsfClass === DATASTORE_ACTIVITY ? 'Disconnect' : 'Session End') : recording ? 'Session Recording' : name;
  const what = starting ? 'started' : ending ? 'ended' : recording ? `recording chunk ${asNonNegative(recording.seq) ?? '?'}${recording.final === true ? ' (final)' : ''}` : name;
  const time = eventTime(body.time);
  return {
    ...base,
    ocsfClass,
    activityId,
    activityName: activityName(ocsfClass, activityId, otherName),
    status: { id: 1, ...(asString(body.reason) ? { detail: asString(body.reason) } : {}) },
    message: `session ${sessionId} ${what} on ${target} for ${principalName(principal)}`,
    ...sourceFor(ocsfClass, session, asObject(body.pep)),
    attributes: {
      ...sessionObjects(ocsfClass, resource, sessionId),
      ...(ending && durationMs !== undefined ? { duration: Math.round(durationMs), start_time: time - Math.round(durationMs), end_time: time } : {}),
      ...(starting ? { start_time: time } : {}),
    },
  };
}

/** From the first statement's time to the last's (the times a PEP recorded them), in epoch ms. */
function statementSpan(entries: readonly JsonObject[]): { start: number; end: number } | undefined {
  if (entries.length === 0) return undefined;
  const times = entries.map((entry) => eventTime(entry.time));
  return { start: Math.min(...times), end: Math.max(...times) };
}

/** A session statement in the shape of the action it would be in a decision. */
function statementAction(protocol: string, statement: JsonObject): JsonObject {
  const text = asString(statement.text) ?? '';
  const kind = asString(statement.kind);
  switch (protocol) {
    case 'sql':
      return { type: 'sql', sql: text, statements: kind ? [{ kind, text }] : [] };
    case 'shell':
      return { type: 'shell', command: text };
    case 'mcp':
      // The PEP's description of the call (tool and redacted arguments) is the text; its method when it names one.
      return { type: 'mcp', method: asString(statement.method) ?? 'tools/call', text };
    default: {
      const [firstWord = '', secondWord = ''] = text.trim().split(/\s+/);
      return { type: protocol === 'kubernetes' ? 'kubernetes' : 'http', method: asString(statement.method) ?? firstWord, path: asString(statement.path) ?? secondWord };
    }
  }
}

/**
 * A run of statements (`session.statements`) as one action. SQL and shell: every text, one per
 * line, so a search of the command finds each statement; for SQL the most consequential kind
 * names the activity, as for a multi-statement text. API calls: the first call's objects, the
 * activity "Mixed" when the calls' activities differ.
 */
function statementRunActivity(protocol: string, entries: readonly JsonObject[], resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const statements = entries.map((entry) => asObject(entry.statement) ?? {});
  const texts = statements.map((statement) => asString(statement.text) ?? '').join('\n');
  if (protocol === 'sql') {
    const kinds = statements.map((statement) => asString(statement.kind));
    // As for one statement: no kind at all is an unparsed text; a kind missing among known ones is "other".
    const parsed = kinds.some((kind) => kind !== undefined) ? kinds.map((kind) => ({ kind: kind ?? 'other' })) : [];
    return actionActivity({ type: 'sql', sql: texts, statements: parsed }, resource, uid);
  }
  if (protocol === 'shell') return actionActivity({ type: 'shell', command: texts }, resource, uid);
  const calls = statements.map((statement) => actionActivity(statementAction(protocol, statement), resource, uid));
  const first = calls[0] ?? actionActivity(statementAction(protocol, {}), resource, uid);
  if (calls.every((call) => call.activityId === first.activityId)) return first;
  return { ...first, activityId: ACTIVITY_OTHER, activityName: activityName(first.ocsfClass, ACTIVITY_OTHER, 'Mixed') };
}

// --- shadow policy ---------------------------------------------------------------------

/**
 * A candidate policy evaluated beside the live one answered differently. Nothing was allowed or
 * refused by it, so it is no security control event: a Base Event (status Other, "Differs")
 * whose severity is Low when the effect changes, tied to its decision by correlation_uid.
 */
function shadowDifference(body: JsonObject): MappedEvent {
  const decisionId = asString(body.decision_id) ?? 'unknown';
  const live = asObject(body.live);
  const shadow = asObject(body.shadow);
  const changes = asArray(body.changes).map(asString).filter((change): change is string => change !== undefined);
  const liveEffect = asString(live?.effect) ?? 'unknown';
  const shadowEffect = asString(shadow?.effect) ?? 'unknown';
  const resource = asObject(body.resource);
  return {
    ocsfClass: BASE_EVENT,
    activityId: ACTIVITY_OTHER,
    activityName: 'Shadow Difference',
    severityId: liveEffect === shadowEffect ? 1 : 2,
    status: { id: 99, name: 'Differs', detail: changes.join(', ') },
    message: `shadow policy ${asString(shadow?.revision) ?? '?'} would answer ${shadowEffect} where ${asString(live?.revision) ?? '?'} answered ${liveEffect}: ${asString(body.action_type) ?? 'action'} on ${asString(resource?.name) ?? 'unknown resource'} for ${principalName(asObject(body.principal))} [${changes.join(', ')}]`,
    uid: asString(body.event_id) ?? `shadow:${decisionId}`,
    correlationUid: decisionId,
    attributes: {},
  };
}

// --- policy bundles ----------------------------------------------------------------------

/**
 * A policy bundle was activated: Entity Management, Activate, of a managed Policy entity whose
 * uid and version are the revision; the exact bytes' digest, source and signature status ride in
 * its data. Portcullis itself acts (no user asked), from its own host.
 */
function bundleActivated(body: JsonObject): MappedEvent {
  const revision = asString(body.revision) ?? 'unknown';
  const role = asString(body.role) ?? 'live';
  const previous = asString(body.previous_revision);
  const source = asObject(body.source);
  const signature = asObject(body.signature);
  const signed = signature?.status === 'verified'
    ? `signed by ${asString(signature.key_id) ?? asString(signature.key_sha256) ?? 'the configured key'}`
    : asString(signature?.status) ?? 'unknown signature status';
  const policy = {
    name: role === 'shadow' ? 'portcullis (shadow candidate)' : 'portcullis',
    uid: revision,
    version: revision,
    is_applied: role === 'live',
    data: { digest: body.digest, source: body.source, signature: body.signature, role },
  };
  return {
    ocsfClass: ENTITY_MANAGEMENT,
    activityId: 10,
    activityName: activityName(ENTITY_MANAGEMENT, 10),
    severityId: 1,
    status: { id: 1 },
    message: `${role} policy bundle ${revision} activated (${asString(body.digest) ?? '?'}, ${signed}) from ${asString(source?.location) ?? '?'}${previous ? `, replacing ${previous}` : ''}`,
    uid: asString(body.event_id) ?? `bundle:${revision}`,
    actor: { app_name: 'Portcullis' },
    ...(asString(body.host) ? { srcEndpoint: { hostname: asString(body.host) } } : {}),
    attributes: {
      entity: { name: policy.name, uid: revision, type_id: 5, type: 'Policy', version: revision, policy },
      ...(previous ? { comment: `replaces revision ${previous}` } : {}),
    },
  };
}

// --- approvals ---------------------------------------------------------------------------

const APPROVAL_OUTCOME: Readonly<Record<string, Pick<MappedEvent, 'activityId' | 'activityName' | 'severityId' | 'status' | 'control'>>> = {
  'approval.requested': {
    activityId: ACTIVITY_OTHER, activityName: 'Approval Requested', severityId: 1,
    status: { id: 99, name: 'Pending' },
    control: { actionId: 99, actionName: 'Approval Required', dispositionId: 99, dispositionName: 'Pending Approval' },
  },
  'approval.approved': {
    activityId: 1, activityName: 'Assign Privileges', severityId: 1,
    status: { id: 1 }, control: { actionId: 1, dispositionId: 8 },
  },
  'approval.denied': {
    activityId: 2, activityName: 'Revoke Privileges', severityId: 2,
    status: { id: 2 }, control: { actionId: 2, dispositionId: 25 },
  },
  'approval.expired': {
    activityId: 2, activityName: 'Revoke Privileges', severityId: 2,
    status: { id: 2, detail: 'the approval expired before reaching its quorum' }, control: { actionId: 2, dispositionId: 2 },
  },
  'approval.executed': {
    activityId: ACTIVITY_OTHER, activityName: 'Approval Executed', severityId: 1,
    status: { id: 1 }, control: { actionId: 1, dispositionId: 1 },
  },
};

function approvalEvent(name: string, body: JsonObject): MappedEvent {
  const outcome = APPROVAL_OUTCOME[name] ?? { activityId: ACTIVITY_OTHER, activityName: name, severityId: 1 as const, status: { id: 0 as const } };
  const approval = asObject(body.approval) ?? {};
  const approvalId = asString(approval.id) ?? 'unknown';
  const decisionId = asString(approval.decision_id);
  const principal = asObject(body.principal);
  const resource = asObject(body.resource);
  const action = asObject(body.action) ?? {};
  const session = asObject(body.session);
  const approvers = asArray(approval.approvers).map(asObject).filter((vote): vote is JsonObject => vote !== undefined);
  const execution = asObject(body.execution);
  const executionFailed = name === 'approval.executed' && execution?.status === 'failure';
  const reason = asString(approval.reason);
  const detail = executionFailed ? asString(execution?.error) ?? 'the approved action failed' : outcome.status.detail ?? reason;
  const summary = privilege(action);
  const quorum = typeof approval.quorum === 'number' ? approval.quorum : undefined;
  return {
    ocsfClass: USER_ACCESS_MANAGEMENT,
    activityId: outcome.activityId,
    activityName: outcome.activityName,
    severityId: outcome.severityId,
    status: { ...outcome.status, ...(executionFailed ? { id: 2, name: undefined } : {}), ...(detail ? { detail } : {}) },
    message: `${name} ${approvalId} for ${principalName(principal)} on ${asString(resource?.name) ?? 'unknown resource'}: ${short(summary)}${quorum === undefined ? '' : ` (${approvers.length}/${quorum} approvals)`}`,
    uid: asString(body.event_id) ?? `${approvalId}:${name}`,
    ...(asString(session?.id) ?? decisionId ? { correlationUid: asString(session?.id) ?? decisionId } : {}),
    actor: approvalActor(name, body, approvers),
    ...(clientEndpoint(asString(session?.client_addr)) ? { srcEndpoint: clientEndpoint(asString(session?.client_addr)) } : {}),
    attributes: {
      user: ocsfUser(principal),
      privileges: [summary],
      resources: resourceDetails(resource),
    },
    ...(outcome.control ? { control: outcome.control } : {}),
  };
}

/** Who caused an approval transition: the recorded actor, else the deciding approver, else Portcullis itself. */
function approvalActor(name: string, body: JsonObject, approvers: JsonObject[]): JsonObject {
  const actor = asObject(body.actor);
  if (actor) return { user: ocsfUser(actor), ...(asString(actor.iss) ? { idp: { name: actor.iss } } : {}) };
  const last = approvers.at(-1);
  if ((name === 'approval.approved' || name === 'approval.denied') && last && asString(last.sub)) {
    // The voter's recorded kind; a vote without one is not claimed to be a human's.
    const typeId: UserTypeId = last.kind === 'human' ? 1 : 4;
    return { user: { uid: last.sub, name: last.sub, type_id: typeId, type: USER_TYPE[typeId] }, ...(asString(last.iss) ? { idp: { name: last.iss } } : {}) };
  }
  if (name === 'approval.requested' || name === 'approval.executed') return principalActor(asObject(body.principal), undefined);
  return { app_name: 'Portcullis' };
}

/** The privilege an approval grants: one run of one command on one resource. */
function privilege(action: JsonObject): string {
  const type = asString(action.type) ?? 'action';
  const text = asString(action.sql) ?? asString(action.command)
    ?? (asString(action.method) || asString(action.path) ? `${asString(action.method) ?? ''} ${asString(action.path) ?? ''}`.trim() : undefined);
  return text ? `${type}: ${text}` : type;
}

// --- shared ------------------------------------------------------------------------------

/** OCSF user of a principal: agents are service accounts (4), humans users (1). */
function ocsfUser(principal: JsonObject | undefined): JsonObject {
  const sub = asString(principal?.sub);
  if (principal?.authenticated === false || !sub) {
    return { name: 'unauthenticated', type_id: 0, type: USER_TYPE[0] };
  }
  const typeId: UserTypeId = principal?.kind === 'human' ? 1 : 4;
  const roles = asArray(principal?.roles).map(asString).filter((role): role is string => !!role);
  return {
    uid: sub,
    name: sub,
    type_id: typeId,
    type: USER_TYPE[typeId],
    ...(roles.length > 0 ? { groups: roles.map((role) => ({ name: role, type: 'role' })) } : {}),
  };
}

function principalActor(principal: JsonObject | undefined, session: JsonObject | undefined): JsonObject {
  const iss = asString(principal?.iss);
  const sessionId = asString(session?.id);
  return {
    user: ocsfUser(principal),
    ...(iss && principal?.authenticated !== false ? { idp: { name: iss } } : {}),
    ...(sessionId ? { session: { uid: sessionId } } : {}),
  };
}

function principalName(principal: JsonObject | undefined): string {
  const sub = asString(principal?.sub);
  if (principal?.authenticated === false || !sub) return `an unauthenticated caller (${asString(principal?.error) ?? 'no token'})`;
  return sub;
}

/**
 * `src_endpoint`, which API and Datastore Activity require: the client's address when the PEP
 * reported one, else the PEP itself (the endpoint the request reached us from). Process
 * Activity has no such attribute.
 */
function sourceFor(ocsfClass: OcsfClass, session: JsonObject | undefined, pep: JsonObject | undefined): { srcEndpoint?: JsonObject } {
  if (ocsfClass === PROCESS_ACTIVITY) return {};
  return { srcEndpoint: clientEndpoint(asString(session?.client_addr)) ?? { name: asString(pep?.sub) ?? 'unknown' } };
}

/** "10.0.0.7", "10.0.0.7:5432", "[::1]:5432", or a name. */
function clientEndpoint(address: string | undefined): JsonObject | undefined {
  if (!address) return undefined;
  if (isIP(address)) return { ip: address };
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (match && isIP(match[1] ?? '')) return { ip: match[1], port: Number(match[2]) };
  return { name: address };
}

function eventTime(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  // Bodies always carry their time; a missing one gets the mapping time rather than no record.
  return Number.isNaN(parsed) ? Date.now() : parsed;
}

function short(text: string, length = 160): string {
  const single = text.replace(/\s+/g, ' ').trim();
  return single.length > length ? `${single.slice(0, length - 1)}…` : single;
}
