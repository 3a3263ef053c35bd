import { asObject } from '../audit/json-fields.ts';
import type { ControlLine } from '../audit/verification/evidence-report.ts';
import type { AuditReader } from '../audit/verification/readers/audit-reader.ts';
import type { BundleVerifier } from '../policy/bundle-signature-verifier.ts';
import type { PolicyBundle } from '../policy/policy-bundle.ts';
import type { BundleArchiveReader } from './bundle-archive-reader.ts';
import { decisionRecordOf, type DecisionRecord } from './decision-record.ts';
import { RecordedActivations, type RecordedActivation } from './recorded-activations.ts';
import { DecisionReplayer, type ReplayDifference } from './decision-replayer.ts';
import { auditBodyMember } from '../audit/ocsf/portcullis-body.ts';

export interface TrailReplayOptions {
  /** Only decisions with from <= time < to (epoch ms) are replayed. */
  readonly from?: number;
  readonly to?: number;
  /** Told the running count now and then, for a long run's progress. */
  readonly onProgress?: (replayed: number) => void;
  /**
   * Checks an archived bundle's signature again where its activation record says it was
   * verified (the PDP's bundle verification key); without it the content digest alone binds
   * the archived bytes to the activation.
   */
  readonly verifier?: BundleVerifier;
}

/** A decision that did not re-verify: its outcome differs, or it could not be evaluated again. */
export interface ReplayFinding {
  readonly decision_id: string;
  /** Where the record is stored (topic, partition and offset, or file and line). */
  readonly where: string;
  readonly revision: string | null;
  /** The members whose replayed value is not the recorded one; empty when it could not be replayed. */
  readonly differences: readonly ReplayDifference[];
  /** Why it could not be evaluated again (a member missing, an unreadable record). */
  readonly unreplayable?: string;
  /**
   * Why no bundle the trail vouches for could be found: no activation record of the revision,
   * or the archive holds no bundle with the bytes it attests (missing, substituted, altered) or
   * one whose signature does not verify. Such a decision is never counted re-verified.
   */
  readonly unattested?: string;
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
  /** Revisions replayed with an attested bundle, with its content digest (null: no policy was loaded). */
  readonly revisions: Readonly<Record<string, string | null>>;
  /** Per revision that could not be attested, why (every decision of it is a finding too). */
  readonly unattested: Readonly<Record<string, string>>;
  readonly findings: readonly ReplayFinding[];
}

const NO_POLICY = '(no policy loaded)';

/**
 * Evaluates every decision of the decisions stream (in the period) again with the archived bundle
 * of its own revision, taken only when its bytes are those the revision's activation record (in
 * the same stream) attests, and names each decision that does not re-verify. A record that is
 * not a readable decision (an unparseable line) is a finding too; Data API queries and bundle
 * activations are not decisions.
 */
export async function replayTrail(reader: AuditReader, bundles: BundleArchiveReader, options: TrailReplayOptions = {}): Promise<TrailReplayReport> {
  const from = options.from ?? -Infinity;
  const to = options.to ?? Infinity;
  const replayer = new DecisionReplayer();
  const findings: ReplayFinding[] = [];
  const withheldInput: WithheldInputNote[] = [];
  const revisions: Record<string, string | null> = {};
  const unattested: Record<string, string> = {};
  const activations = new RecordedActivations();
  const bundleOf = new Map<string, Promise<{ bundle: PolicyBundle } | { unattested: string }>>();
  // Decisions read before their revision's activation (another partition): replayed once the stream is read.
  const deferred: { record: unknown; where: string; decision: DecisionRecord }[] = [];
  let decisions = 0;

  const replayOne = async (record: unknown, where: string, decision: DecisionRecord): Promise<void> => {
    const base = { decision_id: decision.decisionId, where, revision: decision.revision };
    let bundle: PolicyBundle | undefined;
    if (decision.revision !== null) {
      const revision = decision.revision;
      if (!bundleOf.has(revision)) bundleOf.set(revision, attestedBundle(bundles, revision, activations, options.verifier, revisions, unattested));
      const found = await bundleOf.get(revision)!;
      if ('unattested' in found) {
        findings.push({ ...base, differences: [], unattested: found.unattested });
        return;
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
  };

  try {
    for await (const { record, where } of reader.read('decisions')) {
      if (activations.offer(record, where)) continue;
      const decision = decisionRecordOf(record);
      if (!decision) {
        if (auditBodyMember(record, 'event') === 'data-query') continue;
        const time = asObject(record)?.time;
        if (typeof time === 'number' && (time < from || time >= to)) continue;
        decisions += 1;
        findings.push({ decision_id: 'unknown', where, revision: null, differences: [], unreplayable: 'not a readable decision record' });
        continue;
      }
      if (!(decision.time >= from && decision.time < to)) continue;
      decisions += 1;
      options.onProgress?.(decisions);
      if (decision.revision !== null && !activations.has(decision.revision)) deferred.push({ record, where, decision });
      else await replayOne(record, where, decision);
    }
    for (const { record, where, decision } of deferred) await replayOne(record, where, decision);
  } finally {
    await replayer.close();
  }
  return { ok: findings.length === 0, decisions, reverified: decisions - findings.length - withheldInput.length, withheld_input: withheldInput, revisions, unattested, findings };
}

/**
 * The archived bundle of a revision whose bytes an activation record of the trail attests, its
 * signature checked again where it was signed and a key is given; otherwise why not.
 */
async function attestedBundle(
  bundles: BundleArchiveReader,
  revision: string,
  activations: RecordedActivations,
  verifier: BundleVerifier | undefined,
  revisions: Record<string, string | null>,
  unattested: Record<string, string>,
): Promise<{ bundle: PolicyBundle } | { unattested: string }> {
  const refuse = (why: string): { unattested: string } => {
    unattested[revision] = why;
    return { unattested: why };
  };
  const recorded = activations.of(revision);
  if (recorded.length === 0) {
    const altered = activations.altered.length > 0 ? ` (altered activation records at ${activations.altered.join(', ')} attest nothing)` : '';
    return refuse(`no bundle.activated record in the trail attests revision ${revision}${altered}`);
  }
  const problems: string[] = [];
  for (const activation of recorded) {
    try {
      const found = await bundles.bundle(revision, activation.digest);
      if (!found) {
        problems.push(`the ${bundles.description} holds no bundle of revision ${revision} with the bytes its activation record (${activation.where}) attests, ${activation.digest}`);
        continue;
      }
      const signatureProblem = await signatureProblemOf(found.bundle, activation, verifier);
      if (signatureProblem) {
        problems.push(signatureProblem);
        continue;
      }
      revisions[revision] = found.digest;
      return { bundle: found.bundle };
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return refuse(problems.join('; '));
}

async function signatureProblemOf(bundle: PolicyBundle, activation: RecordedActivation, verifier: BundleVerifier | undefined): Promise<string | undefined> {
  if (activation.signature.status !== 'verified' || !verifier) return undefined;
  try {
    const signature = await verifier.verify(bundle.files);
    if (activation.signature.keySha256 && signature.keySha256 !== activation.signature.keySha256) {
      return `revision ${activation.revision}: the archived bundle is signed by key ${signature.keySha256}, but its activation record (${activation.where}) says ${activation.signature.keySha256}`;
    }
    return undefined;
  } catch (error) {
    return `revision ${activation.revision}: the archived bundle's signature does not verify with the given key: ${(error as Error).message}`;
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
