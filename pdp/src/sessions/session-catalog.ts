import { asArray, asNonNegative, asObject, asString, type JsonObject } from '../audit/json-fields.ts';
import { actionActivity } from '../audit/ocsf/ocsf-action-class.ts';
import type { AuditReader } from '../audit/verification/readers/audit-reader.ts';
import { auditBodyOf } from '../audit/ocsf/portcullis-body.ts';

/** What finds sessions: a principal (sub), a resource (name), a time window (epoch ms). */
export interface SessionFilter {
  readonly principal?: string;
  readonly resource?: string;
  readonly from?: number;
  readonly to?: number;
}

/** One session as the audit trail tells it. */
export interface SessionSummary {
  readonly id: string;
  readonly protocol?: string;
  readonly resource?: { readonly type?: string; readonly name?: string; readonly environment?: string };
  readonly principal?: { readonly sub?: string; readonly kind?: string; readonly authenticated?: boolean };
  readonly pep?: string;
  readonly client_addr?: string;
  /** The first thing recorded of it (its start, or its first decision), ISO. */
  readonly started_at: string;
  /** Its end, when recorded. */
  readonly ended_at?: string;
  readonly end_reason?: string;
  /** Decisions asked in it, and of those denied and held for approval. */
  readonly decisions: number;
  readonly denied: number;
  readonly approvals: number;
  /** Commands it ran (statements, file operations). */
  readonly commands: number;
  /** An interactive session's recording: chunks found, chunk numbers missing, whether the last one is there. */
  readonly recording?: { readonly chunks: number; readonly missing: readonly number[]; readonly final: boolean };
}

/** One decision asked in a session, with the approval it opened and what ran under it. */
export interface SessionCommand {
  readonly time: string;
  readonly decision_id?: string;
  /** The action as text: the command line, the SQL, `read /etc/hosts` … */
  readonly text: string;
  readonly action_type?: string;
  /** allow, deny, approval_required; absent for a command whose decision is not in the trail. */
  readonly effect?: string;
  readonly reasons: readonly string[];
  readonly approval?: { readonly id: string; readonly status: string; readonly approvers: readonly string[]; readonly reason?: string };
  /** What ran under this decision: status, error, duration, bytes, masked count. */
  readonly runs: readonly SessionRun[];
}

export interface SessionRun {
  readonly time?: string;
  readonly status?: string;
  readonly error?: string;
  readonly duration_ms?: number;
  readonly bytes?: number;
  readonly masked_cells?: number;
  /** It ran under an earlier decision of the same shape. */
  readonly reused?: boolean;
}

export interface SessionDetail extends SessionSummary {
  readonly commands_list: readonly SessionCommand[];
}

interface Gathered {
  summary: Mutable<SessionSummary>;
  commands: Map<string, GatheredCommand>;
  /** Statements, joined to their decisions once every stream is read. */
  orphanRuns: Array<{ decisionId: string; text: string; run: SessionRun }>;
  recordingChunks: Set<number>;
  recordingFinal: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type GatheredCommand = Omit<Mutable<SessionCommand>, 'runs'> & { runs: SessionRun[] };

/** The sessions the trail holds that match, newest first. */
export async function listSessions(reader: AuditReader, filter: SessionFilter = {}): Promise<SessionSummary[]> {
  const gathered = await gather(reader);
  return [...gathered.values()].map(summaryOf).filter((session) => matches(session, filter)).sort((a, b) => b.started_at.localeCompare(a.started_at));
}

/** One session: its summary and its commands in order, each with its decision, approval and runs. */
export async function sessionDetail(reader: AuditReader, sessionId: string): Promise<SessionDetail | undefined> {
  const gathered = (await gather(reader, sessionId)).get(sessionId);
  if (!gathered) return undefined;
  const commands: GatheredCommand[] = [...gathered.commands.values()];
  for (const orphan of gathered.orphanRuns) {
    const known = gathered.commands.get(orphan.decisionId);
    if (known) known.runs.push(orphan.run);
    else commands.push({ time: orphan.run.time ?? gathered.summary.started_at, decision_id: orphan.decisionId, text: orphan.text, reasons: [], runs: [orphan.run] });
  }
  commands.sort((a, b) => a.time.localeCompare(b.time));
  return { ...summaryOf(gathered), commands_list: commands };
}

function summaryOf(gathered: Gathered): SessionSummary {
  const { summary, recordingChunks } = gathered;
  if (recordingChunks.size === 0) return { ...summary };
  const missing: number[] = [];
  const last = Math.max(...recordingChunks);
  for (let seq = 0; seq < last; seq += 1) if (!recordingChunks.has(seq)) missing.push(seq);
  return { ...summary, recording: { chunks: recordingChunks.size, missing, final: gathered.recordingFinal } };
}

function matches(session: SessionSummary, filter: SessionFilter): boolean {
  if (filter.principal !== undefined && session.principal?.sub !== filter.principal) return false;
  if (filter.resource !== undefined && session.resource?.name !== filter.resource) return false;
  const started = Date.parse(session.started_at);
  const ended = session.ended_at === undefined ? Infinity : Date.parse(session.ended_at);
  // A session is in the window when any of it is.
  if (filter.from !== undefined && ended < filter.from) return false;
  if (filter.to !== undefined && started >= filter.to) return false;
  return true;
}

/** Reads the three event streams once, keeping what belongs to sessions (only `only`, when given). */
async function gather(reader: AuditReader, only?: string): Promise<Map<string, Gathered>> {
  const sessions = new Map<string, Gathered>();
  const approvalsByDecision = new Map<string, JsonObject>();
  const entry = (id: string, body: JsonObject, time: string): Gathered => {
    let gathered = sessions.get(id);
    if (!gathered) {
      gathered = { summary: { id, started_at: time, decisions: 0, denied: 0, approvals: 0, commands: 0 }, commands: new Map(), orphanRuns: [], recordingChunks: new Set(), recordingFinal: false };
      sessions.set(id, gathered);
    }
    const summary = gathered.summary;
    if (time < summary.started_at) summary.started_at = time;
    const resource = asObject(body.resource);
    if (summary.resource === undefined && resource) summary.resource = pick(resource, ['type', 'name', 'environment']);
    const principal = asObject(body.principal);
    if ((summary.principal === undefined || summary.principal.authenticated !== true) && principal) summary.principal = pick(principal, ['sub', 'kind', 'authenticated']);
    summary.pep ??= asString(asObject(body.pep)?.sub);
    summary.client_addr ??= asString(asObject(body.session)?.client_addr);
    return gathered;
  };

  for await (const { record } of reader.read('decisions')) {
    const body = bodyOf(record);
    const id = asString(asObject(body?.session)?.id);
    if (!body || body.event !== 'decision' || id === undefined || (only !== undefined && id !== only)) continue;
    const time = asString(body.time) ?? '';
    const gathered = entry(id, body, time);
    const effect = asString(body.effect);
    gathered.summary.decisions += 1;
    if (effect === 'deny') gathered.summary.denied += 1;
    if (effect === 'approval_required') gathered.summary.approvals += 1;
    gathered.summary.protocol ??= protocolOf(asString(asObject(body.action)?.type));
    const decisionId = asString(body.decision_id) ?? `decision-${gathered.commands.size}`;
    const action = asObject(body.action) ?? {};
    const approval = asObject(body.approval);
    gathered.commands.set(decisionId, {
      time,
      decision_id: decisionId,
      text: actionText(action, asObject(body.resource), decisionId),
      ...(asString(action.type) ? { action_type: asString(action.type)! } : {}),
      ...(effect ? { effect } : {}),
      reasons: asArray(body.reasons).map((reason) => asString(asObject(reason)?.message) ?? asString(asObject(reason)?.code) ?? '').filter(Boolean),
      ...(approval && asString(approval.id) ? { approval: { id: asString(approval.id)!, status: asString(approval.status) ?? 'unknown', approvers: [] } } : {}),
      runs: [],
    });
  }

  for await (const { record } of reader.read('sessions')) {
    const body = bodyOf(record);
    const id = asString(asObject(body?.session)?.id);
    if (!body || id === undefined || (only !== undefined && id !== only)) continue;
    const time = asString(body.time) ?? '';
    const gathered = entry(id, body, time);
    const summary = gathered.summary;
    summary.protocol = asString(body.protocol) ?? summary.protocol;
    switch (body.event) {
      case 'session.end':
        summary.ended_at = time;
        if (asString(body.reason)) summary.end_reason = asString(body.reason)!;
        break;
      case 'session.recording': {
        const recording = asObject(body.recording);
        const seq = asNonNegative(recording?.seq);
        if (seq !== undefined) gathered.recordingChunks.add(seq);
        if (recording?.final === true) gathered.recordingFinal = true;
        break;
      }
      case 'session.statement':
        addRun(gathered, body, body);
        break;
      case 'session.statements':
        for (const statement of asArray(body.statements)) {
          const fields = asObject(statement);
          if (fields) addRun(gathered, fields, body);
        }
        break;
      default:
        break;
    }
  }

  // The latest record of each approval, found from the decision that asked for it or, for the
  // decision that ran it once approved, by its id.
  const approvalsById = new Map<string, JsonObject>();
  for await (const { record } of reader.read('approvals')) {
    const body = bodyOf(record);
    const decisionId = asString(asObject(body?.approval)?.decision_id);
    const approvalId = asString(asObject(body?.approval)?.id);
    if (body && decisionId) approvalsByDecision.set(decisionId, body);
    if (body && approvalId) approvalsById.set(approvalId, body);
  }
  for (const gathered of sessions.values()) {
    for (const command of gathered.commands.values()) {
      const approval = (command.decision_id ? approvalsByDecision.get(command.decision_id) : undefined) ?? (command.approval ? approvalsById.get(command.approval.id) : undefined);
      if (!approval) continue;
      const fields = asObject(approval.approval)!;
      command.approval = {
        id: asString(fields.id) ?? command.approval?.id ?? 'unknown',
        status: asString(approval.event)?.replace(/^approval\./, '') ?? 'unknown',
        approvers: asArray(fields.approvers).map((vote) => asString(asObject(vote)?.sub)).filter((sub): sub is string => sub !== undefined),
        ...(asString(fields.reason) ? { reason: asString(fields.reason)! } : {}),
      };
    }
  }
  return sessions;
}

/** A statement (alone or an entry of a run) joins the decision it ran under. */
function addRun(gathered: Gathered, fields: JsonObject, record: JsonObject): void {
  gathered.summary.commands += 1;
  const decisionId = asString(fields.decision_id) ?? 'unknown';
  const run = {
    ...(asString(fields.time) ? { time: asString(fields.time)! } : {}),
    ...(asString(fields.status) ? { status: asString(fields.status)! } : {}),
    ...(asString(fields.error) ? { error: asString(fields.error)! } : {}),
    ...numberField(fields, 'duration_ms'),
    ...numberField(fields, 'bytes'),
    ...numberField(fields, 'masked_cells'),
    ...(fields.decision_reused === true ? { reused: true } : {}),
  };
  const text = asString(asObject(fields.statement)?.text) ?? asString(asObject(record.statement)?.text) ?? '';
  gathered.orphanRuns.push({ decisionId, text, run });
}

function numberField(fields: JsonObject, name: 'duration_ms' | 'bytes' | 'masked_cells'): Partial<Record<typeof name, number>> {
  const value = asNonNegative(fields[name]);
  return value === undefined ? {} : { [name]: value };
}

function bodyOf(record: unknown): JsonObject | undefined {
  return auditBodyOf(record);
}

function actionText(action: JsonObject, resource: JsonObject | undefined, decisionId: string): string {
  try {
    return actionActivity(action, resource, decisionId).summary;
  } catch {
    return asString(action.type) ?? 'action';
  }
}

/** The session's protocol as the session events name it, from a decision's action type. */
function protocolOf(type: string | undefined): string | undefined {
  switch (type) {
    case 'sql':
      return 'sql';
    case 'shell':
    case 'file':
      return 'shell';
    case 'kubernetes':
      return 'kubernetes';
    case 'http':
      return 'http';
    case 'mcp':
      return 'mcp';
    default:
      return undefined;
  }
}

function pick(object: JsonObject, names: readonly string[]): Record<string, never> {
  const picked: Record<string, unknown> = {};
  for (const name of names) if (object[name] !== undefined) picked[name] = object[name];
  return picked as Record<string, never>;
}
