import { asObject, asString } from '../audit/json-fields.ts';
import type { AuditReader, StoredRecord } from '../audit/verification/readers/audit-reader.ts';
import type { PolicyBundle } from '../policy/policy-bundle.ts';
import { decisionRecordOf, UnreplayableRecordError } from '../replay/decision-record.ts';
import { isBundleActivationRecord } from '../replay/recorded-activations.ts';
import { DecisionReplayer } from '../replay/decision-replayer.ts';
import { actionSummary } from './action-summary.ts';
import type { CandidateBundle } from './candidate-bundle.ts';
import { decisionChange } from './impact-change.ts';
import { EvaluatedTally, summarise, type ChangedDecision, type ImpactReport, type SkippedDecision } from './impact-report.ts';
import { auditBodyOf } from '../audit/ocsf/portcullis-body.ts';

/** Which recorded decisions to evaluate with the candidate. */
export interface ImpactQuery {
  /** Epoch ms, inclusive. */
  readonly from?: number;
  /** Epoch ms, exclusive. */
  readonly to?: number;
  /** The principal's sub. */
  readonly principal?: string;
  /** The resource's name. */
  readonly resource?: string;
}

export interface ImpactAnalysisOptions {
  readonly reader: AuditReader;
  readonly candidate: CandidateBundle;
  readonly query: ImpactQuery;
  /** Called every PROGRESS_EVERY records and at the end, with the counts so far (long runs). */
  readonly progress?: (read: number, evaluated: number) => void;
}

const PROGRESS_EVERY = 1000;

/** A candidate that runs past the time limit this often is abandoned: each one costs the limit (5 s). */
const MAX_CANDIDATE_TIMEOUTS = 3;

/** The trail could not be read: no report can be trusted. */
export class ImpactSourceError extends Error {
  override name = 'ImpactSourceError';
}

/** The candidate bundle could not be prepared by the engine. */
export class CandidateLoadError extends Error {
  override name = 'CandidateLoadError';
}

/**
 * Evaluates every recorded decision of the query with the candidate, as the replay of a record
 * does (the input rebuilt from the record, the PDP's engine and reading of the result), and
 * compares the candidate's outcome with policy's own recorded outcome. Records are streamed:
 * only the changes are kept.
 */
export async function analyseImpact(options: ImpactAnalysisOptions): Promise<ImpactReport> {
  const { reader, candidate, query } = options;
  const replayer = new DecisionReplayer();
  const evaluated = new EvaluatedTally();
  const changes: ChangedDecision[] = [];
  const skipped: SkippedDecision[] = [];
  const seen = new Set<string>();
  let read = 0;
  let timeouts = 0;
  try {
    await prepare(replayer, candidate.bundle);
    for await (const stored of storedDecisions(reader)) {
      read += 1;
      if (read % PROGRESS_EVERY === 0) options.progress?.(read, evaluated.count);
      const decision = decisionRecordOf(stored.record);
      if (!decision) {
        // A Data API query or a bundle activation is not a decision of portcullis/decision; anything else unreadable is a fault.
        if (fieldOf(stored.record, 'event') !== 'data-query' && !isBundleActivationRecord(stored.record)) skipped.push({ decisionId: 'unknown', where: stored.where, reason: 'not a readable decision record' });
        continue;
      }
      if (!matches(decision.time, decision.body, query)) continue;
      // The same record stored twice (a resend after a lost acknowledgement) is one decision.
      if (seen.has(decision.decisionId)) continue;
      seen.add(decision.decisionId);
      let result;
      try {
        result = await replayer.replay(stored.record, candidate.bundle);
      } catch (error) {
        if (!(error instanceof UnreplayableRecordError)) throw error;
        skipped.push({ decisionId: decision.decisionId, where: stored.where, reason: error.message });
        continue;
      }
      if (result.evaluationError !== undefined) {
        // A candidate that throws or hangs is no policy to gate on: its PDP would deny, but the
        // analysis cannot say what the candidate decides, so this is no tightening (exit 3).
        skipped.push({ decisionId: decision.decisionId, where: stored.where, reason: `the candidate's evaluation failed: ${result.evaluationError}` });
        if (/exceeded \d+ ms/.test(result.evaluationError) && ++timeouts >= MAX_CANDIDATE_TIMEOUTS) {
          throw new CandidateLoadError(`the candidate's evaluation ran past the time limit ${timeouts} times (last on decision ${decision.decisionId}): analysis stopped, the candidate cannot be analysed`);
        }
        continue;
      }
      evaluated.add(result.recorded, result.replayed, decision.revision);
      const change = decisionChange(result.recorded, result.replayed);
      if (!change) continue;
      changes.push({
        decisionId: decision.decisionId,
        time: Number.isFinite(decision.time) ? new Date(decision.time).toISOString() : '?',
        principal: principalName(decision.body.principal),
        resource: resourceName(decision.body.resource),
        action: actionSummary(decision.body.action),
        recordedRevision: decision.revision,
        recorded: result.recorded,
        candidate: result.replayed,
        change,
        withheld: result.withheld,
        where: stored.where,
      });
    }
  } finally {
    await replayer.close();
  }
  options.progress?.(read, evaluated.count);
  return summarise(
    {
      candidate: { revision: candidate.bundle.revision, description: candidate.description, signature: candidate.signature },
      source: reader.description,
      period: { from: isoOrNull(query.from), to: isoOrNull(query.to) },
      filters: { principal: query.principal ?? null, resource: query.resource ?? null },
    },
    evaluated,
    changes,
    skipped,
  );
}

/** The engine prepares the candidate once, before any record is read: a bundle it refuses is no candidate. */
async function prepare(replayer: DecisionReplayer, bundle: PolicyBundle): Promise<void> {
  const probe = { unmapped: { portcullis: { event: 'decision', decision_id: 'probe', pep: { sub: 'probe', roles: [] }, principal: { authenticated: false, error: 'probe' }, resource: {}, action: { type: 'probe' }, session: null, effect: 'deny', reasons: [], obligations: { mask: [], record: true } } } };
  try {
    await replayer.replay(probe, bundle);
  } catch (error) {
    throw new CandidateLoadError(`the candidate bundle (revision ${bundle.revision}) could not be prepared: ${(error as Error).message}`);
  }
}

/** The decisions stream, with read failures told apart from evaluation failures. */
async function* storedDecisions(reader: AuditReader): AsyncIterable<StoredRecord> {
  const iterator = reader.read('decisions')[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<StoredRecord>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw new ImpactSourceError(`${reader.description}: ${(error as Error).message}`);
    }
    if (next.done) return;
    yield next.value;
  }
}

function matches(time: number, body: Record<string, unknown>, query: ImpactQuery): boolean {
  if (query.from !== undefined && !(time >= query.from)) return false;
  if (query.to !== undefined && !(time < query.to)) return false;
  if (query.principal !== undefined && asString(asObject(body.principal)?.sub) !== query.principal) return false;
  if (query.resource !== undefined && asString(asObject(body.resource)?.name) !== query.resource) return false;
  return true;
}

function principalName(principal: unknown): string {
  const fields = asObject(principal);
  if (fields?.authenticated === false) return `(unauthenticated: ${asString(fields.error) ?? '?'})`;
  return asString(fields?.sub) ?? '?';
}

function resourceName(resource: unknown): string {
  const fields = asObject(resource);
  return `${asString(fields?.type) ?? '?'}/${asString(fields?.name) ?? '?'}`;
}

function fieldOf(record: unknown, name: string): unknown {
  return auditBodyOf(record)?.[name];
}

function isoOrNull(time: number | undefined): string | null {
  return time === undefined ? null : new Date(time).toISOString();
}
