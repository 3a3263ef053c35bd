import { asObject, asString } from '../audit/json-fields.ts';
import type { ControlLine } from '../audit/verification/evidence-report.ts';
import type { AuditReader } from '../audit/verification/readers/audit-reader.ts';
import type { PolicyBundle } from '../policy/policy-bundle.ts';
import type { BundleArchiveReader } from './bundle-archive-reader.ts';
import { decisionRecordOf } from './decision-record.ts';
import { DecisionReplayer, type ReplayDifference } from './decision-replayer.ts';

export interface TrailReplayOptions {
  /** Only decisions with from <= time < to (epoch ms) are replayed. */
  readonly from?: number;
  readonly to?: number;
  /** Told the running count now and then, for a long run's progress. */
  readonly onProgress?: (replayed: number) => void;
}

/** A decision that did not re-verify: its outcome differs, or it could not be evaluated again. */
export interface ReplayFinding {
  readonly decision_id: string;
  /** Where the record is stored (topic, partition and offset, or file and line). */
  readonly where: string;
  readonly revision: string | null;
  /** The members whose replayed value is not the recorded one; empty when it could not be replayed. */
  readonly differences: readonly ReplayDifference[];
  /** Why it could not be evaluated again (no archived bundle, an altered archive, a member missing). */
  readonly unreplayable?: string;
  /** Input members the trail withheld as credentials, when there are any. */
  readonly withheld?: readonly string[];
}

/**
 * A decision whose replay gave the recorded outcome without input the record withholds as
 * credentials: what policy saw is not all in the record, so it is not counted as re-verified.
 */
export interface WithheldInputNote {
  readonly decision_id: string;
  readonly where: string;
  readonly revision: string | null;
  readonly withheld: readonly string[];
}

export interface TrailReplayReport {
  /** No decision differs or failed to replay (those replayed without withheld input are not failures, nor re-verified). */
  readonly ok: boolean;
  /** Decisions in the period. */
  readonly decisions: number;
  /** Decisions whose whole input is in the record and whose replay gives the recorded outcome. */
  readonly reverified: number;
  /** Decisions replayed to the recorded outcome without members the record withholds: named, not counted in `reverified`. */
  readonly withheld_input: readonly WithheldInputNote[];
  /** Revisions replayed, with their bundles' content digests (none: no policy was loaded). */
  readonly revisions: Readonly<Record<string, string | null>>;
  readonly findings: readonly ReplayFinding[];
}

const NO_POLICY = '(no policy loaded)';

/**
 * Evaluates every decision of the decisions stream (in the period) again with the archived bundle
 * of its own revision and names each one that does not re-verify. A record that is not a
 * readable decision (an unparseable line) is a finding too; Data API queries are not decisions.
 */
export async function replayTrail(reader: AuditReader, bundles: BundleArchiveReader, options: TrailReplayOptions = {}): Promise<TrailReplayReport> {
  const from = options.from ?? -Infinity;
  const to = options.to ?? Infinity;
  const replayer = new DecisionReplayer();
  const findings: ReplayFinding[] = [];
  const withheldInput: WithheldInputNote[] = [];
  const revisions: Record<string, string | null> = {};
  const bundleOf = new Map<string, Promise<{ bundle: PolicyBundle } | { error: string }>>();
  let decisions = 0;
  try {
    for await (const { record, where } of reader.read('decisions')) {
      const decision = decisionRecordOf(record);
      if (!decision) {
        if (asString(asObject(asObject(asObject(record)?.unmapped)?.portcullis)?.event) === 'data-query') continue;
        const time = asObject(record)?.time;
        if (typeof time === 'number' && (time < from || time >= to)) continue;
        decisions += 1;
        findings.push({ decision_id: 'unknown', where, revision: null, differences: [], unreplayable: 'not a readable decision record' });
        continue;
      }
      if (!(decision.time >= from && decision.time < to)) continue;
      decisions += 1;
      options.onProgress?.(decisions);
      const base = { decision_id: decision.decisionId, where, revision: decision.revision };
      let bundle: PolicyBundle | undefined;
      if (decision.revision !== null) {
        const revision = decision.revision;
        if (!bundleOf.has(revision)) bundleOf.set(revision, archived(bundles, revision, revisions));
        const found = await bundleOf.get(revision)!;
        if ('error' in found) {
          findings.push({ ...base, differences: [], unreplayable: found.error });
          continue;
        }
        bundle = found.bundle;
      } else {
        revisions[NO_POLICY] = null;
      }
      try {
        const result = await replayer.replay(record, bundle);
        if (result.differences.length > 0) findings.push({ ...base, differences: result.differences, ...(result.withheld.length > 0 ? { withheld: result.withheld } : {}) });
        else if (result.withheld.length > 0) withheldInput.push({ ...base, withheld: result.withheld });
      } catch (error) {
        findings.push({ ...base, differences: [], unreplayable: (error as Error).message });
      }
    }
  } finally {
    await replayer.close();
  }
  return { ok: findings.length === 0, decisions, reverified: decisions - findings.length - withheldInput.length, withheld_input: withheldInput, revisions, findings };
}

async function archived(bundles: BundleArchiveReader, revision: string, revisions: Record<string, string | null>): Promise<{ bundle: PolicyBundle } | { error: string }> {
  try {
    const found = await bundles.bundle(revision);
    if (!found) return { error: `no bundle of revision ${revision} in the ${bundles.description}` };
    revisions[revision] = found.digest;
    return { bundle: found.bundle };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The evidence report's line: the controls whose claim a re-verified decision supports. */
export function replayControlLine(report: TrailReplayReport): ControlLine {
  return {
    // AC-3: each recorded effect is what the policy of the day says; AU-10: the record binds it to that policy.
    controls: ['AC-3', 'AU-10'],
    text: `decisions re-verified: ${report.reverified} of ${report.decisions}${withheldText(report)}${report.ok ? '' : ` (${report.findings.length} not re-verified: audit replay names them)`}`,
    ok: report.ok,
  };
}

/** Decisions that matched only without what the record withholds: said, never silently counted. */
function withheldText(report: TrailReplayReport): string {
  const count = report.withheld_input.length;
  if (count === 0) return '';
  return `; ${count} more gave the recorded outcome without input the record withholds as credentials, so they are not counted (audit replay names them)`;
}
