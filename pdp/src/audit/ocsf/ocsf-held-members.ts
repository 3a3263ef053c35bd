import { isIP } from 'node:net';
import { asArray, asObject, asString, type JsonObject } from '../json-fields.ts';

/**
 * Where the OCSF attributes of a record already hold a member of its Portcullis body: for each
 * such member, how to read it back from them. The record keeps such a member only there
 * (portcullis-body.ts drops it from `unmapped.portcullis` when the reading gives it back exactly,
 * and fills it in again for readers). An object member may be held in part: the reading gives
 * the sub-members the attributes hold, the rest stays under `unmapped.portcullis`.
 *
 * A reading returns undefined when the attributes do not hold the member; it never guesses.
 * `event` is not in the table: it is always `metadata.event_code` (portcullis-body.ts).
 */
export interface HeldMember {
  readonly member: string;
  /** The events (`metadata.event_code`) whose bodies have this member where the reading finds it. */
  readonly events: (event: string) => boolean;
  readonly read: (record: JsonObject) => unknown;
}

const isDecision = (event: string): boolean => event === 'decision';
const isSession = (event: string): boolean => event.startsWith('session.');
const isDecisionOrSession = (event: string): boolean => isDecision(event) || isSession(event);
const isStatement = (event: string): boolean => event === 'session.statement';
const hasEventId = (event: string): boolean => isSession(event) || event.startsWith('approval.') || event === 'shadow.difference';

const EFFECT_OF_DISPOSITION: Readonly<Record<number, string>> = { 1: 'allow', 2: 'deny', 99: 'approval_required' };

export const HELD_MEMBERS: readonly HeldMember[] = [
  { member: 'time', events: () => true, read: (record) => isoTime(record.time) },
  { member: 'decision_id', events: (event) => isDecision(event) || event === 'data-query', read: (record) => asString(asObject(record.metadata)?.uid) },
  { member: 'event_id', events: hasEventId, read: (record) => asString(asObject(record.metadata)?.uid) },
  { member: 'received_at', events: isSession, read: (record) => isoTime(asObject(record.metadata)?.logged_time) },
  { member: 'principal', events: isDecisionOrSession, read: principalOf },
  { member: 'session', events: isDecisionOrSession, read: sessionOf },
  { member: 'resource', events: isDecisionOrSession, read: resourceOf },
  { member: 'effect', events: isDecision, read: (record) => (typeof record.disposition_id === 'number' ? EFFECT_OF_DISPOSITION[record.disposition_id] : undefined) },
  { member: 'reasons', events: isDecision, read: reasonsOf },
  { member: 'policy_revision', events: isDecision, read: (record) => (asObject(record.policy) ? asString(asObject(record.policy)?.uid) ?? null : undefined) },
  { member: 'action', events: isDecision, read: actionTextOf },
  // A statement posted alone: its text, the decision it ran under and its result's size, where its class holds them.
  { member: 'statement', events: isStatement, read: (record) => { const text = actionTextOf(record); return text ? { text: text.sql ?? text.command } : undefined; } },
  { member: 'decision_id', events: isStatement, read: requestUidOf },
  { member: 'bytes', events: isStatement, read: (record) => asObject(record.query_info)?.bytes },
];

/** The id of the request a record's class names (a statement's: the decision it ran under). */
function requestUidOf(record: JsonObject): string | undefined {
  return asString(asObject(record.query_info)?.uid) ?? asString(asObject(record.process)?.uid) ?? asString(asObject(asObject(record.api)?.request)?.uid);
}

function isoTime(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? new Date(value).toISOString() : undefined;
}

/** A verified principal, from the actor's user (agents are service accounts, humans users) and idp. */
function principalOf(record: JsonObject): JsonObject | undefined {
  const actor = asObject(record.actor);
  const user = asObject(actor?.user);
  const sub = asString(user?.uid);
  const iss = asString(asObject(actor?.idp)?.name);
  if (!sub || !iss || (user?.type_id !== 1 && user?.type_id !== 4)) return undefined;
  const roles = asArray(user.groups).map((group) => asString(asObject(group)?.name));
  if (roles.some((role) => role === undefined)) return undefined;
  return { authenticated: true, sub, iss, kind: user.type_id === 1 ? 'human' : 'agent', roles };
}

/**
 * The session: its id from the actor's session, the client's address from `src_endpoint` when
 * it is an IP (a name there may be the PEP's own). A decision without a session has none (null).
 */
function sessionOf(record: JsonObject): JsonObject | null | undefined {
  const id = asString(asObject(asObject(record.actor)?.session)?.uid);
  if (!id) return asString(asObject(record.metadata)?.event_code) === 'decision' ? null : undefined;
  const endpoint = asObject(record.src_endpoint);
  const ip = asString(endpoint?.ip);
  if (!ip || !isIP(ip)) return { id };
  const port = typeof endpoint?.port === 'number' ? endpoint.port : undefined;
  const address = port === undefined ? ip : isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
  return { id, client_addr: address };
}

/** The resource's type and name, from the destination endpoint (API and Datastore Activity). */
function resourceOf(record: JsonObject): JsonObject | undefined {
  const endpoint = asObject(record.dst_endpoint);
  const name = asString(endpoint?.name);
  if (!name) return undefined;
  const type = asString(endpoint?.svc_name);
  return { ...(type ? { type } : {}), name };
}

/**
 * A decision's reasons, from `status_detail` ("code: message; code: message"); none without it.
 * A message that itself holds "; " reads back otherwise, so such reasons stay stored.
 */
function reasonsOf(record: JsonObject): JsonObject[] | undefined {
  if (typeof record.disposition_id !== 'number') return undefined;
  const detail = asString(record.status_detail);
  if (detail === undefined) return [];
  return detail.split('; ').map((reason) => {
    const colon = reason.indexOf(': ');
    return colon === -1 ? { code: reason, message: '' } : { code: reason.slice(0, colon), message: reason.slice(colon + 2) };
  });
}

/** The command of an action: a SQL text from `query_info`, a shell command line from `process`. */
function actionTextOf(record: JsonObject): JsonObject | undefined {
  const sql = asString(asObject(record.query_info)?.query_string);
  if (sql !== undefined) return { sql };
  const command = asString(asObject(record.process)?.cmd_line);
  if (command !== undefined) return { command };
  return undefined;
}
