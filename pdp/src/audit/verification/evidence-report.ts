import type { ChainAgedOut, ChainStart, KeyTrust, VerificationProblem, VerificationReport } from './audit-verifier.ts';
import { ChartFacts, type EvidenceCharts } from './evidence-report-facts.ts';
import type { StoredRetention } from './readers/audit-reader.ts';
import type { ProducerSummary } from './producer-lineage.ts';
import type { ProblemKind } from './verification-problem.ts';
import { DIGEST_TYPE } from '../trail/digest-record.ts';
import { RETAINED_STREAMS } from '../../config/audit-retention-config.ts';
import { asArray, asNonNegative, asNumber, asObject, asString, fieldAt, type JsonObject } from '../json-fields.ts';
import { auditBodyOf } from '../ocsf/portcullis-body.ts';

export { renderReport, type ReportFormat } from './evidence-report-rendering.ts';

export type ControlId = 'AC-3' | 'AC-5' | 'AC-6' | 'AU-2' | 'AU-3' | 'AU-5' | 'AU-9' | 'AU-10' | 'AU-11' | 'AU-12' | 'AU-14' | 'IA-2' | 'IA-9';

export type { EvidenceCharts } from './evidence-report-facts.ts';

/** What the store keeps of one stream (AU-11), whatever the report's period. */
export interface StreamRetention {
  readonly stream: string;
  /** null: kept for ever; undefined when the store does not say. */
  readonly retention_ms: number | null | undefined;
  /** "90d", "forever" or "not stated". */
  readonly retention: string;
  readonly source: string | null;
  readonly oldest_record: string | null;
  readonly records_held: number;
}

/** A count, or counts (or, for dates and settings, text) by name. */
export type EvidenceCount = number | Readonly<Record<string, number | string>>;

export interface ControlEvidence {
  readonly id: ControlId;
  readonly title: string;
  /** What the evidence is, in one sentence. */
  readonly evidence: string;
  readonly counts: Readonly<Record<string, EvidenceCount>>;
  /** Two or three records, trimmed to what shows the control at work. */
  readonly examples: readonly JsonObject[];
  readonly verification: { readonly ok: boolean; readonly summary: string };
  /** Findings other checks add to this control (e.g. replay's "decisions re-verified: N of N"), in the order given. */
  readonly lines: readonly ControlLineText[];
}

/** One line of a control's evidence, and whether it shows the control holding. */
export interface ControlLineText {
  readonly text: string;
  readonly ok: boolean;
}

/** A line for the controls it supports: what another check (replay, …) adds to the report. */
export interface ControlLine extends ControlLineText {
  readonly controls: readonly ControlId[];
}

export interface EvidenceReport {
  readonly title: string;
  readonly generated_at: string;
  readonly period: { readonly from: string | null; readonly to: string | null; readonly first_record: string | null; readonly last_record: string | null };
  /** Over the whole trail, whatever the period. */
  readonly verification: {
    readonly ok: boolean;
    readonly counts: VerificationReport['counts'];
    /** The keys the signatures were checked with and where they came from. */
    readonly trust: KeyTrust | null;
    /** Each PDP run: how it started and ended, and whether its answers waited for durable records. */
    readonly producers: readonly ProducerSummary[];
    readonly problems_by_kind: Readonly<Record<string, number>>;
    /** The first problems, as the verifier named them. */
    readonly problems: readonly VerificationProblem[];
    readonly notes: readonly string[];
    /** Chains whose oldest records aged out, verified from a signed checkpoint on. */
    readonly started_from: readonly ChainStart[];
    /** Chains of which nothing is held, all older than their stream's retention. */
    readonly aged_out: readonly ChainAgedOut[];
  };
  /** Per stream: how long it is kept and the oldest record held. */
  readonly retention: readonly StreamRetention[];
  /** Over the period: the facts the HTML report draws. */
  readonly charts: EvidenceCharts;
  readonly controls: readonly ControlEvidence[];
}

export interface EvidenceReportInput {
  /** Audit records (parsed or JSON text, or `{record, where}` as readers yield them), any stream. */
  readonly records: AsyncIterable<unknown>;
  /** Only records with from <= time < to are counted. */
  readonly from?: Date;
  readonly to?: Date;
  readonly verification: VerificationReport;
  /** How long the store keeps each stream, as the store says (AuditReader.retention). */
  readonly retention?: StoredRetention;
  /** Lines other checks add to the controls they support (appendControlLines). */
  readonly controlLines?: readonly ControlLine[];
  readonly now?: Date;
}

const MAX_EXAMPLES = 3;
const MAX_LISTED_PROBLEMS = 50;
const MAX_LISTED_NOTES = 20;

/**
 * Evidence for NIST SP 800-53 controls from an audit trail: per control, what the evidence is,
 * counts over the period, a few trimmed example records and the result of verification.
 * Reads the records once, keeping counts and a bounded number of examples.
 */
export async function buildEvidenceReport(input: EvidenceReportInput): Promise<EvidenceReport> {
  const tally = new Tally();
  const held = new Holdings();
  const from = input.from?.getTime() ?? -Infinity;
  const to = input.to?.getTime() ?? Infinity;
  for await (const item of input.records) {
    const record = asObject(unwrap(item));
    if (!record || record.type === DIGEST_TYPE) continue;
    const time = asNumber(record.time);
    if (time !== undefined) held.add(record, time);
    if (time === undefined || time < from || time >= to) continue;
    tally.add(record, time);
  }
  const retention = held.describe(input.retention ?? {});
  const { verification } = input;
  const problemsByKind = countBy(verification.problems.map((problem) => problem.kind));
  return {
    title: 'Portcullis audit evidence (NIST SP 800-53)',
    generated_at: (input.now ?? new Date()).toISOString(),
    period: {
      from: input.from?.toISOString() ?? null,
      to: input.to?.toISOString() ?? null,
      first_record: tally.firstTime === undefined ? null : new Date(tally.firstTime).toISOString(),
      last_record: tally.lastTime === undefined ? null : new Date(tally.lastTime).toISOString(),
    },
    verification: {
      ok: verification.ok,
      counts: verification.counts,
      trust: verification.trust ?? null,
      producers: verification.producers,
      problems_by_kind: problemsByKind,
      problems: verification.problems.slice(0, MAX_LISTED_PROBLEMS),
      notes: verification.notes.slice(0, MAX_LISTED_NOTES),
      started_from: verification.started_from,
      aged_out: verification.aged_out,
    },
    retention,
    charts: tally.charts.build(),
    controls: appendControlLines(controls(tally, verification, problemsByKind, retention), input.controlLines ?? []),
  };
}

/**
 * Adds each line to the controls it names; a line that is not ok marks its controls failed, so a
 * finding such as a decision that no longer re-verifies cannot sit under a green badge.
 */
export function appendControlLines(controlsOfReport: readonly ControlEvidence[], lines: readonly ControlLine[]): ControlEvidence[] {
  return controlsOfReport.map((control) => {
    const mine = lines.filter((line) => line.controls.includes(control.id)).map(({ text, ok }) => ({ text, ok }));
    if (mine.length === 0) return control;
    const ok = control.verification.ok && mine.every((line) => line.ok);
    return { ...control, verification: { ...control.verification, ok }, lines: [...control.lines, ...mine] };
  });
}

// --- counting --------------------------------------------------------------------------------

class Counter {
  private readonly counts = new Map<string, number>();
  add(key: string, by = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

class Examples {
  private readonly byName = new Map<string, JsonObject[]>();
  /** Keeps the first MAX_EXAMPLES records of a kind, trimmed. */
  offer(name: string, record: JsonObject): void {
    const list = this.byName.get(name) ?? [];
    if (list.length >= MAX_EXAMPLES) return;
    list.push(trimRecord(record));
    this.byName.set(name, list);
  }
  /** One of each named kind first, then more of them, up to MAX_EXAMPLES. */
  pick(...names: string[]): JsonObject[] {
    const lists = names.map((name) => this.byName.get(name) ?? []);
    const picked: JsonObject[] = [];
    for (let round = 0; round < MAX_EXAMPLES && picked.length < MAX_EXAMPLES; round += 1) {
      for (const list of lists) {
        const example = list[round];
        if (example && picked.length < MAX_EXAMPLES) picked.push(example);
      }
    }
    return picked;
  }
}

/** Fields AU-3 asks of a record: what, when, where, source, outcome, identity. */
const CONTENT_FIELDS: ReadonlyArray<[string, (record: JsonObject) => boolean]> = [
  ['type', (record) => asNumber(record.type_uid) !== undefined],
  ['time', (record) => asNumber(record.time) !== undefined],
  ['who', (record) => asObject(fieldAt(record, 'actor', 'user')) !== undefined || asString(fieldAt(record, 'actor', 'app_name')) !== undefined],
  ['where', (record) => ['dst_endpoint', 'device', 'resources', 'database'].some((name) => record[name] !== undefined)],
  ['outcome', (record) => asNumber(record.status_id) !== undefined],
  ['identity', (record) => asString(fieldAt(record, 'metadata', 'uid')) !== undefined],
];

/** What the store holds of each stream, over every record read, whatever the period. */
class Holdings {
  private readonly byStream = new Map<string, { oldest: number; count: number }>();

  add(record: JsonObject, time: number): void {
    const portcullis = auditBodyOf(record) ?? {};
    const stream = asString(fieldAt(portcullis, 'chain', 'stream')) ?? streamOf(asString(portcullis.event) ?? '');
    const entry = this.byStream.get(stream) ?? { oldest: time, count: 0 };
    entry.oldest = Math.min(entry.oldest, time);
    entry.count += 1;
    this.byStream.set(stream, entry);
  }

  /**
   * Every stream the PDP keeps (RETAINED_STREAMS), then any other the store holds or states a
   * retention for: a stream added later is listed without a change here.
   */
  describe(stored: StoredRetention): StreamRetention[] {
    const settings = stored as Readonly<Record<string, { readonly retention_ms: number | null; readonly source: string } | undefined>>;
    const others = [...new Set([...this.byStream.keys(), ...Object.keys(settings)])].filter((stream) => !(RETAINED_STREAMS as readonly string[]).includes(stream)).sort();
    return [...RETAINED_STREAMS, ...others].map((stream) => {
      const setting = settings[stream];
      const entry = this.byStream.get(stream);
      return {
        stream,
        retention_ms: setting?.retention_ms,
        retention: setting === undefined ? 'not stated' : setting.retention_ms === null ? 'forever' : durationText(setting.retention_ms),
        source: setting?.source ?? null,
        oldest_record: entry ? new Date(entry.oldest).toISOString() : null,
        records_held: stream === 'digests' ? 0 : entry?.count ?? 0,
      };
    });
  }
}

/** 7776000000 → "90d", 93784000 → "1d2h3m4s". */
export function durationText(ms: number): string {
  const units: ReadonlyArray<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  let rest = ms;
  let text = '';
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text || `${ms}ms`;
}

class Tally {
  readonly charts = new ChartFacts();
  firstTime: number | undefined;
  lastTime: number | undefined;
  records = 0;
  readonly byStream = new Counter();
  readonly byEvent = new Counter();
  readonly byClass = new Counter();
  readonly byProducer = new Counter();
  decisions = 0;
  readonly decisionsByEffect = new Counter();
  readonly decisionsByAction = new Counter();
  readonly decisionsByKind = new Counter();
  readonly decisionsByPep = new Counter();
  readonly denialsByReason = new Counter();
  readonly unauthenticatedByError = new Counter();
  readonly principals = new Set<string>();
  readonly issuers = new Set<string>();
  readonly resources = new Set<string>();
  readonly peps = new Set<string>();
  authenticatedDecisions = 0;
  dataQueries = 0;
  dataQueriesWithoutPep = 0;
  decisionsWithMasks = 0;
  maskRules = 0;
  maskedCells = 0;
  statementsMasked = 0;
  /** Statements on the sessions stream: one per `session.statement`, one per entry of a `session.statements`. */
  sessionStatements = 0;
  /** Interactive sessions' recordings: per session, the chunk numbers found and whether the last one is there. */
  readonly recordings = new Map<string, { chunks: Set<number>; final: boolean }>();
  readonly approvalsByOutcome = new Counter();
  readonly approvers = new Set<string>();
  selfApprovals = 0;
  approvedBelowQuorum = 0;
  readonly auditFailures = new Counter();
  auditDenials = 0;
  complete = 0;
  readonly incomplete = new Counter();
  readonly examples = new Examples();

  add(record: JsonObject, time: number): void {
    this.records += 1;
    this.firstTime = this.firstTime === undefined ? time : Math.min(this.firstTime, time);
    this.lastTime = this.lastTime === undefined ? time : Math.max(this.lastTime, time);
    const portcullis = auditBodyOf(record) ?? {};
    const event = asString(portcullis.event) ?? asString(fieldAt(record, 'metadata', 'event_code')) ?? 'unknown';
    const chain = asObject(portcullis.chain);
    const stream = asString(chain?.stream) ?? streamOf(event);
    this.byStream.add(stream);
    this.byEvent.add(event);
    this.byClass.add(`${asNumber(record.class_uid) ?? '?'} ${asString(record.class_name) ?? ''}`.trim());
    if (chain) this.byProducer.add(asString(chain.producer_id) ?? 'unknown');
    this.examples.offer(`stream:${stream}`, record);
    if (chain) this.examples.offer('chained', record);

    const missing = CONTENT_FIELDS.filter(([, present]) => !present(record)).map(([name]) => name);
    if (missing.length === 0) this.complete += 1;
    for (const name of missing) this.incomplete.add(name);

    if (event === 'decision') this.addDecision(record, portcullis, time);
    else if (event === 'data-query') this.addDataQuery(record, portcullis);
    else if (event.startsWith('approval.')) this.addApproval(record, event, portcullis, time);
    else if (event === 'session.statement') this.addStatements(record, [portcullis]);
    else if (event === 'session.statements') this.addStatements(record, asArray(portcullis.statements).map(asObject).filter((entry): entry is JsonObject => entry !== undefined));
    else if (event === 'session.recording') this.addRecordingChunk(record, portcullis);
    if (event.startsWith('audit.')) {
      this.auditFailures.add(event);
      this.examples.offer('audit-failure', record);
    }
  }

  private addDecision(record: JsonObject, body: JsonObject, time: number): void {
    this.decisions += 1;
    const effect = asString(body.effect) ?? 'unknown';
    this.decisionsByEffect.add(effect);
    this.decisionsByAction.add(asString(fieldAt(body, 'action', 'type')) ?? 'unknown');
    const principal = asObject(body.principal) ?? {};
    const authenticated = principal.authenticated !== false && asString(principal.sub) !== undefined;
    const kind = authenticated ? (principal.kind === 'human' ? 'human' : 'agent') : 'unauthenticated';
    this.decisionsByKind.add(kind);
    if (authenticated) {
      this.authenticatedDecisions += 1;
      this.principals.add(`${asString(principal.sub)}@${asString(principal.iss) ?? ''}`);
      if (asString(principal.iss)) this.issuers.add(asString(principal.iss) as string);
      this.examples.offer(`principal:${kind}`, record);
    } else {
      this.unauthenticatedByError.add(asString(principal.error) ?? 'unknown');
      this.examples.offer('principal:unauthenticated', record);
    }
    const resource = asString(fieldAt(body, 'resource', 'name'));
    if (resource) this.resources.add(resource);
    const pep = asString(fieldAt(body, 'pep', 'sub'));
    this.decisionsByPep.add(pep ?? 'none');
    if (pep) {
      this.peps.add(pep);
      this.examples.offer('pep', record);
    }
    this.examples.offer(`effect:${effect}`, record);
    const denialCodes: string[] = [];
    if (effect === 'deny') {
      const codes = asArray(body.reasons).map((reason) => asString(asObject(reason)?.code)).filter((code): code is string => !!code);
      denialCodes.push(...(codes.length > 0 ? codes : ['unspecified']));
      for (const code of denialCodes) this.denialsByReason.add(code);
      if (codes.some((code) => code.includes('audit'))) this.auditDenials += 1;
      this.examples.offer('denial', record);
    }
    const masks = asArray(fieldAt(body, 'obligations', 'mask'));
    if (effect === 'allow' && masks.length > 0) {
      this.decisionsWithMasks += 1;
      this.maskRules += masks.length;
      this.examples.offer('mask', record);
    }
    if (asObject(fieldAt(record, 'metadata'))) this.examples.offer('complete', record);
    this.charts.addDecision(time, body, effect, denialCodes);
  }

  private addDataQuery(record: JsonObject, body: JsonObject): void {
    this.dataQueries += 1;
    const pep = asString(fieldAt(body, 'pep', 'sub'));
    if (pep) {
      this.peps.add(pep);
      this.examples.offer('pep', record);
    } else {
      this.dataQueriesWithoutPep += 1;
    }
  }

  private addApproval(record: JsonObject, event: string, body: JsonObject, time: number): void {
    this.charts.addApproval(time, event, body);
    const outcome = event.slice('approval.'.length);
    this.approvalsByOutcome.add(outcome);
    this.examples.offer(`approval:${outcome}`, record);
    const votes = asArray(fieldAt(body, 'approval', 'approvers')).map((vote) => asString(asObject(vote)?.sub) ?? asString(vote)).filter((sub): sub is string => !!sub);
    for (const vote of votes) this.approvers.add(vote);
    if (outcome !== 'approved') return;
    const requester = asString(fieldAt(body, 'principal', 'sub'));
    if (requester && votes.includes(requester)) this.selfApprovals += 1;
    const quorum = asNumber(fieldAt(body, 'approval', 'quorum')) ?? 1;
    if (new Set(votes).size < quorum) this.approvedBelowQuorum += 1;
  }

  /** `statements`: the statement bodies of one record (itself, or the entries of a run). */
  private addRecordingChunk(record: JsonObject, body: JsonObject): void {
    const session = asString(fieldAt(body, 'session', 'id')) ?? 'unknown';
    const seq = asNonNegative(fieldAt(body, 'recording', 'seq'));
    const recording = this.recordings.get(session) ?? { chunks: new Set<number>(), final: false };
    if (seq !== undefined) recording.chunks.add(seq);
    if (fieldAt(body, 'recording', 'final') === true) recording.final = true;
    this.recordings.set(session, recording);
    this.examples.offer('recording', record);
  }

  /** Recordings with every chunk from 0 to a final one. */
  completeRecordings(): number {
    let complete = 0;
    for (const { chunks, final } of this.recordings.values()) {
      if (final && chunks.size === Math.max(...chunks) + 1) complete += 1;
    }
    return complete;
  }

  private addStatements(record: JsonObject, statements: readonly JsonObject[]): void {
    let masked = false;
    for (const statement of statements) {
      this.sessionStatements += 1;
      this.charts.addStatement(statement);
      const cells = asNonNegative(statement.masked_cells) ?? 0;
      if (cells > 0) {
        this.maskedCells += cells;
        this.statementsMasked += 1;
        masked = true;
      }
    }
    if (masked) this.examples.offer('mask', record);
  }
}

function streamOf(event: string): string {
  if (event.startsWith('session.')) return 'sessions';
  if (event.startsWith('approval.')) return 'approvals';
  return 'decisions';
}

// --- the controls ----------------------------------------------------------------------------

function controls(tally: Tally, verification: VerificationReport, problems: Readonly<Record<string, number>>, retention: readonly StreamRetention[]): ControlEvidence[] {
  const problemCount = verification.problems.length;
  const trail: ControlEvidence['verification'] = verification.ok
    ? { ok: true, summary: `The trail these counts come from verified: ${verification.counts.records} records, ${verification.counts.digests_verified} signed digests, no problem.` }
    : { ok: false, summary: `Verification found ${problemCount} problem(s); counts may include altered records or miss removed ones.` };
  // Typed, so a renamed or mistyped problem kind fails to compile instead of never being counted.
  const chainKinds: readonly ProblemKind[] = ['gap', 'hash-mismatch', 'broken-link', 'duplicate-conflict', 'unparseable', 'truncated', 'producer-missing', 'producer-unannounced', 'tail-cut', 'stop-missing', 'after-stop'];
  const digestKinds: readonly ProblemKind[] = ['bad-signature', 'digest-mismatch', 'digest-range-missing', 'no-digest', 'unattested', 'untrusted-key'];
  const chainsOk = chainKinds.every((kind) => (problems[kind] ?? 0) === 0);
  const digestsOk = digestKinds.every((kind) => (problems[kind] ?? 0) === 0);
  const trust = verification.trust;
  const trustText = trust ? ` Keys trusted: ${trust.thumbprints.join(', ') || 'none'} (${trust.source === 'audit-folder' ? 'NOT pinned: read beside the records' : `pinned: ${trust.source}`}, ${trust.path}).` : '';
  const { counts } = verification;
  const ex = tally.examples;
  return [
    {
      id: 'AC-3', title: 'Access Enforcement',
      evidence: 'Every request that reached a resource through a Portcullis enforcement point was first decided by policy, and each decision is a record with its effect and reasons.',
      counts: {
        decisions: tally.decisions,
        decisions_by_effect: tally.decisionsByEffect.toJSON(),
        decisions_by_action_type: tally.decisionsByAction.toJSON(),
        distinct_principals: tally.principals.size,
        distinct_resources: tally.resources.size,
        data_api_queries: tally.dataQueries,
      },
      examples: ex.pick('effect:allow', 'effect:deny', 'effect:approval_required'),
      verification: trail,
      lines: [],
    },
    {
      id: 'AC-5', title: 'Separation of Duties',
      evidence: 'Actions that policy holds for approval run only after a quorum of approvers other than the requester approved them; every request, approval, denial, expiry and execution is a record.',
      counts: {
        decisions_requiring_approval: tally.decisionsByEffect.toJSON().approval_required ?? 0,
        approvals_by_outcome: tally.approvalsByOutcome.toJSON(),
        distinct_approvers: tally.approvers.size,
        self_approvals: tally.selfApprovals,
        approved_below_quorum: tally.approvedBelowQuorum,
      },
      examples: ex.pick('approval:requested', 'approval:approved', 'approval:denied', 'approval:expired'),
      verification: trail,
      lines: [],
    },
    {
      id: 'AC-6', title: 'Least Privilege',
      evidence: 'Policy denies what a principal\'s roles do not allow, with a reason code for every denial, and masks sensitive columns in the results it does allow.',
      counts: {
        denials: tally.decisionsByEffect.toJSON().deny ?? 0,
        denials_by_reason: tally.denialsByReason.toJSON(),
        allowed_with_masks: tally.decisionsWithMasks,
        mask_rules_applied: tally.maskRules,
        statements_with_masked_cells: tally.statementsMasked,
        masked_cells: tally.maskedCells,
      },
      examples: ex.pick('denial', 'mask'),
      verification: trail,
      lines: [],
    },
    {
      id: 'AU-2', title: 'Event Logging',
      evidence: 'The logged event types are every policy decision, every session start, statement (alone or in a record of its session\'s consecutive statements), recording chunk of an interactive session and end, and every approval transition, each on its own stream.',
      counts: { records: tally.records, records_by_stream: tally.byStream.toJSON(), records_by_event: tally.byEvent.toJSON(), session_statements: tally.sessionStatements },
      examples: ex.pick('stream:decisions', 'stream:sessions', 'stream:approvals'),
      verification: trail,
      lines: [],
    },
    {
      id: 'AU-3', title: 'Content of Audit Records',
      evidence: 'Each record is an OCSF 1.8 event stating what happened (class and activity), when, where (resource), who (principal), the outcome and a unique id, with the command as run.',
      counts: { records: tally.records, records_with_all_content: tally.complete, records_missing_content: tally.incomplete.toJSON() },
      examples: ex.pick('complete'),
      verification: trail,
      lines: [],
    },
    {
      id: 'AU-5', title: 'Response to Audit Logging Process Failures',
      evidence: 'When the audit trail cannot take a record, the enforcement point fails closed (the request is denied); with durability "sync" (each run\'s signed start record says which) no decision is answered before its record is on disk, so a crash loses no answered decision; "async" answers first and may lose the last records of a crash.',
      counts: {
        audit_failures_recorded: tally.auditFailures.toJSON(),
        denials_for_audit_reasons: tally.auditDenials,
        chain_gaps: problems.gap ?? 0,
        producers_by_durability: countBy(verification.producers.map((producer) => producer.durability ?? 'unknown')),
      },
      examples: ex.pick('audit-failure'),
      verification: trail,
      lines: [],
    },
    {
      id: 'AU-9', title: 'Protection of Audit Information',
      evidence: 'Every record is a link of a per-producer SHA-256 hash chain; the verifier recomputed every hash and every link, so an altered, removed or inserted record is named.',
      counts: {
        records_verified: counts.records,
        producers: counts.producers,
        streams: counts.streams,
        hash_mismatches: problems['hash-mismatch'] ?? 0,
        broken_links: problems['broken-link'] ?? 0,
        gaps: problems.gap ?? 0,
        conflicting_duplicates: problems['duplicate-conflict'] ?? 0,
        unparseable: problems.unparseable ?? 0,
        producers_by_state: countBy(verification.producers.map((producer) => producer.state)),
        truncated_or_missing: (problems.truncated ?? 0) + (problems['producer-missing'] ?? 0) + (problems['tail-cut'] ?? 0) + (problems['stop-missing'] ?? 0),
      },
      examples: ex.pick('chained'),
      verification: chainsOk
        ? { ok: true, summary: `All ${counts.records} records recompute to their hashes and link without gaps.` }
        : { ok: false, summary: `The hash chains have problems: ${describeProblems(problems, chainKinds)}.` },
      lines: [],
    },
    {
      id: 'AU-10', title: 'Non-repudiation',
      evidence: 'Digests signed with the producer\'s ES256 key attest each chain\'s records (count, last hash, root hash) and link to each other, and every principal is identified by a verified token.',
      counts: {
        digests: counts.digests,
        digests_verified: counts.digests_verified,
        records_attested: counts.records_attested,
        bad_signatures: problems['bad-signature'] ?? 0,
        digest_mismatches: problems['digest-mismatch'] ?? 0,
        digest_ranges_missing: problems['digest-range-missing'] ?? 0,
        checkpoints_verified: counts.checkpoints_verified,
        key_pinned: trust ? (trust.source === 'audit-folder' ? 0 : 1) : 0,
        decisions_by_verified_principals: tally.authenticatedDecisions,
      },
      examples: ex.pick('chained', 'principal:agent', 'principal:human'),
      verification: digestsOk
        ? { ok: true, summary: `${counts.digests_verified} of ${counts.digests} digests verified against the public key, attesting ${counts.records_attested} records.${trustText}` }
        : { ok: false, summary: `The digests have problems: ${describeProblems(problems, digestKinds)}.${trustText}` },
      lines: [],
    },
    retentionControl(verification, retention, chainsOk, chainKinds, problems),
    {
      id: 'AU-12', title: 'Audit Record Generation',
      evidence: 'Each PDP process (producer) generates a record for every decision, session event and approval transition, as counted per stream and producer.',
      counts: { records_by_stream: tally.byStream.toJSON(), records_by_ocsf_class: tally.byClass.toJSON(), records_by_producer: tally.byProducer.toJSON() },
      examples: ex.pick('stream:decisions', 'stream:sessions', 'stream:approvals'),
      verification: trail,
      lines: [],
    },
    {
      id: 'AU-14', title: 'Session Audit',
      evidence: 'Interactive sessions are recorded whole as asciicast v2 (what the client\'s terminal was sent, after masking, and the typing it echoed), in numbered chunks that are audit records like any other, so each recording is verified with the trail and a missing chunk shows.',
      counts: {
        sessions_recorded: tally.recordings.size,
        recording_chunks: [...tally.recordings.values()].reduce((sum, recording) => sum + recording.chunks.size, 0),
        recordings_complete: tally.completeRecordings(),
        recordings_open_or_incomplete: tally.recordings.size - tally.completeRecordings(),
      },
      examples: ex.pick('recording'),
      verification: trail,
      lines: [],
    },
    {
      id: 'IA-2', title: 'Identification and Authentication (Organizational Users)',
      evidence: 'Every decision names a principal (subject, issuer, agent or human) identified by a verified token; requests without a valid token are denied and recorded with the reason.',
      counts: {
        decisions_by_principal_kind: tally.decisionsByKind.toJSON(),
        unauthenticated_by_error: tally.unauthenticatedByError.toJSON(),
        distinct_principals: tally.principals.size,
        distinct_issuers: tally.issuers.size,
      },
      examples: ex.pick('principal:agent', 'principal:human', 'principal:unauthenticated'),
      verification: trail,
      lines: [],
    },
    {
      id: 'IA-9', title: 'Service Identification and Authentication',
      evidence: 'Enforcement points (PEPs) authenticate to the decision point as services, and every decision records the PEP that asked for it.',
      counts: { distinct_peps: tally.peps.size, decisions_by_pep: tally.decisionsByPep.toJSON(), data_api_queries_without_pep: tally.dataQueriesWithoutPep },
      examples: ex.pick('pep'),
      verification: trail,
      lines: [],
    },
  ];
}

/** AU-11: what each stream keeps, the oldest record held, and where verification had to start. */
function retentionControl(
  verification: VerificationReport, retention: readonly StreamRetention[], chainsOk: boolean, chainKinds: readonly ProblemKind[], problems: Readonly<Record<string, number>>,
): ControlEvidence {
  const starts = verification.started_from;
  const startText = starts.length === 0
    ? 'Every chain was verified from its first record (seq 0).'
    : `Verification started from a signed checkpoint for ${starts.length} chain(s) whose oldest records aged out: ${starts.map((start) => `${start.stream} of producer ${start.producer_id} from seq ${start.first_seq} (checkpoint of ${start.checkpoint.time})`).join('; ')}.`;
  return {
    id: 'AU-11', title: 'Audit Record Retention',
    evidence: 'Each stream is kept for its configured retention (Kafka topic retention.ms; rotated JSONL files expire); signed checkpoints carry each chain\'s sequence and hash, so a trail whose oldest records aged out verifies from its oldest held checkpoint, and any gap or alteration after it is still named.',
    counts: {
      retention_by_stream: Object.fromEntries(retention.map((entry) => [entry.stream, entry.retention])),
      oldest_record_by_stream: Object.fromEntries(retention.filter((entry) => entry.stream !== 'digests').map((entry) => [entry.stream, entry.oldest_record ?? 'none'])),
      records_held_by_stream: Object.fromEntries(retention.filter((entry) => entry.stream !== 'digests').map((entry) => [entry.stream, entry.records_held])),
      chains_verified_from_checkpoint: starts.length,
      chains_aged_out_whole: verification.aged_out.length,
      records_aged_out: starts.reduce((sum, start) => sum + start.first_seq, 0),
    },
    examples: [],
    verification: chainsOk
      ? { ok: true, summary: startText }
      : { ok: false, summary: `${startText} The hash chains have problems: ${describeProblems(problems, chainKinds)}.` },
    lines: [],
  };
}

function describeProblems(problems: Readonly<Record<string, number>>, kinds: readonly string[]): string {
  return kinds.filter((kind) => (problems[kind] ?? 0) > 0).map((kind) => `${problems[kind]} ${kind}`).join(', ');
}

function countBy(values: readonly string[]): Record<string, number> {
  const counter = new Counter();
  for (const value of values) counter.add(value);
  return counter.toJSON();
}

function unwrap(item: unknown): unknown {
  let value = item;
  const wrapper = asObject(value);
  if (wrapper && 'record' in wrapper && 'where' in wrapper && !('class_uid' in wrapper)) value = wrapper.record;
  if (value instanceof Uint8Array) value = new TextDecoder().decode(value);
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  return value;
}

// --- trimming --------------------------------------------------------------------------------

const MAX_TEXT = 240;

/** What an auditor needs to see of a record: identity, class, who, where, what, outcome, chain link. */
export function trimRecord(record: JsonObject): JsonObject {
  const body = auditBodyOf(record) ?? {};
  const chain = asObject(body.chain);
  const user = asObject(fieldAt(record, 'actor', 'user'));
  const command = asString(fieldAt(record, 'query_info', 'query_string'))
    ?? asString(fieldAt(record, 'process', 'cmd_line'))
    ?? asString(fieldAt(body, 'statement', 'text'))
    ?? asString(fieldAt(record, 'api', 'operation'));
  const time = asNumber(record.time);
  const codes = asArray(body.reasons).map((reason) => asString(asObject(reason)?.code)).filter(Boolean);
  const approval = asObject(body.approval);
  // A run of statements (session.statements) sums its entries here; they stay in the full record.
  const totals = asObject(body.totals);
  const trimmed: JsonObject = {
    uid: fieldAt(record, 'metadata', 'uid'),
    time: time === undefined ? undefined : new Date(time).toISOString(),
    event: body.event,
    type: record.type_name,
    severity: record.severity,
    status: record.status,
    disposition: record.disposition,
    actor: user ? { uid: user.uid, name: user.name, type: user.type } : asString(fieldAt(record, 'actor', 'app_name')),
    pep: fieldAt(body, 'pep', 'sub'),
    resource: fieldAt(body, 'resource', 'name'),
    command: command === undefined ? undefined : clip(command),
    effect: body.effect,
    reasons: codes.length > 0 ? codes : undefined,
    mask: asArray(fieldAt(body, 'obligations', 'mask')).length > 0 ? fieldAt(body, 'obligations', 'mask') : undefined,
    statements: body.event === 'session.statements' ? totals?.statements : undefined,
    masked_cells: body.masked_cells ?? totals?.masked_cells,
    approval: approval ? { id: approval.id, quorum: approval.quorum, approvers: asArray(approval.approvers).length } : undefined,
    chain: chain ? { producer_id: chain.producer_id, stream: chain.stream, seq: chain.seq, hash: chain.hash } : undefined,
  };
  return Object.fromEntries(Object.entries(trimmed).filter(([, value]) => value !== undefined && value !== null));
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}
