import type { EffectV1 } from '@portcullis/contract';
import type { ReplayOutcome } from '../replay/recorded-policy-outcome.ts';
import { CHANGE_KINDS, type ChangeKind, type DecisionChange } from './impact-change.ts';

/** One recorded decision the candidate would decide otherwise. */
export interface ChangedDecision {
  readonly decisionId: string;
  /** ISO 8601, the record's time. */
  readonly time: string;
  /** The principal's sub, or `(unauthenticated: <error>)`. */
  readonly principal: string;
  /** `type/name` of the resource. */
  readonly resource: string;
  /** The command as policy saw it, shortened for a report line. */
  readonly action: string;
  readonly recordedRevision: string | null;
  readonly recorded: ReplayOutcome;
  readonly candidate: ReplayOutcome;
  readonly change: DecisionChange;
  /** Input members the trail withheld as credentials: the change may come from their absence. */
  readonly withheld: readonly string[];
  /** Where the record is (file line, topic offset). */
  readonly where: string;
}

/** A decision record of the period that could not be evaluated again. */
export interface SkippedDecision {
  readonly decisionId: string;
  readonly where: string;
  readonly reason: string;
}

export interface ImpactTotals {
  /** Decision records of the period that match the filters. */
  readonly decisions: number;
  readonly evaluated: number;
  readonly unchanged: number;
  readonly changed: number;
  readonly skipped: number;
  /** Changed decisions that loosen (deny→allow, approval no longer required, a mask removed …). */
  readonly loosening: number;
  readonly byKind: Readonly<Record<ChangeKind, number>>;
  /** Recorded effect → count, over the evaluated decisions. */
  readonly recordedEffects: Readonly<Record<EffectV1, number>>;
  readonly candidateEffects: Readonly<Record<EffectV1, number>>;
}

/** Changed decisions counted under one name (a reason code, a principal, a resource). */
export interface ImpactGroup {
  readonly name: string;
  readonly changed: number;
  readonly loosening: number;
  readonly byKind: Readonly<Partial<Record<ChangeKind, number>>>;
}

export interface ImpactReport {
  /** `signature`: how the candidate's signature was checked against the PDP's rule (verified, not required, or analysed unsigned on request). */
  readonly candidate: { readonly revision: string; readonly description: string; readonly signature: string };
  readonly source: string;
  readonly period: { readonly from: string | null; readonly to: string | null };
  readonly filters: { readonly principal: string | null; readonly resource: string | null };
  /** The revisions the recorded decisions were made under. */
  readonly recordedRevisions: readonly string[];
  readonly totals: ImpactTotals;
  /** By reason code added or removed; `(same reasons)` for changes that kept them. */
  readonly byReason: readonly ImpactGroup[];
  readonly byPrincipal: readonly ImpactGroup[];
  readonly byResource: readonly ImpactGroup[];
  /** Every change, oldest first. */
  readonly changes: readonly ChangedDecision[];
  readonly skipped: readonly SkippedDecision[];
}

export const NO_REASON_CHANGE = '(same reasons)';

/** Totals and groups of what an analysis found. */
/** What the analysis counts of every decision it evaluated (only changes are kept whole). */
export class EvaluatedTally {
  count = 0;
  readonly recordedEffects: Record<EffectV1, number> = { allow: 0, deny: 0, approval_required: 0 };
  readonly candidateEffects: Record<EffectV1, number> = { allow: 0, deny: 0, approval_required: 0 };
  readonly revisions = new Set<string>();

  add(recorded: ReplayOutcome, candidate: ReplayOutcome, revision: string | null): void {
    this.count += 1;
    this.recordedEffects[recorded.effect] += 1;
    this.candidateEffects[candidate.effect] += 1;
    this.revisions.add(revision ?? '(none)');
  }
}

export function summarise(
  header: Pick<ImpactReport, 'candidate' | 'source' | 'period' | 'filters'>,
  evaluated: EvaluatedTally,
  changes: readonly ChangedDecision[],
  skipped: readonly SkippedDecision[],
): ImpactReport {
  const byKind = Object.fromEntries(CHANGE_KINDS.map((kind) => [kind, 0])) as Record<ChangeKind, number>;
  for (const change of changes) for (const kind of change.change.kinds) byKind[kind] += 1;
  const ordered = [...changes].sort((left, right) => left.time.localeCompare(right.time) || left.decisionId.localeCompare(right.decisionId));
  return {
    ...header,
    recordedRevisions: [...evaluated.revisions].sort(),
    totals: {
      decisions: evaluated.count + skipped.length,
      evaluated: evaluated.count,
      unchanged: evaluated.count - changes.length,
      changed: changes.length,
      skipped: skipped.length,
      loosening: changes.filter((change) => change.change.loosening.length > 0).length,
      byKind,
      recordedEffects: { ...evaluated.recordedEffects },
      candidateEffects: { ...evaluated.candidateEffects },
    },
    byReason: grouped(ordered, (change) => {
      const codes = [...change.change.reasonsAdded.map((code) => `+ ${code}`), ...change.change.reasonsRemoved.map((code) => `− ${code}`)];
      return codes.length > 0 ? codes : [NO_REASON_CHANGE];
    }),
    byPrincipal: grouped(ordered, (change) => [change.principal]),
    byResource: grouped(ordered, (change) => [change.resource]),
    changes: ordered,
    skipped,
  };
}

/** Groups changes under each name `names` gives them, largest group first. */
function grouped(changes: readonly ChangedDecision[], names: (change: ChangedDecision) => readonly string[]): ImpactGroup[] {
  const groups = new Map<string, { changed: number; loosening: number; byKind: Partial<Record<ChangeKind, number>> }>();
  for (const change of changes) {
    for (const name of new Set(names(change))) {
      const group = groups.get(name) ?? { changed: 0, loosening: 0, byKind: {} };
      group.changed += 1;
      if (change.change.loosening.length > 0) group.loosening += 1;
      for (const kind of change.change.kinds) group.byKind[kind] = (group.byKind[kind] ?? 0) + 1;
      groups.set(name, group);
    }
  }
  return [...groups]
    .map(([name, group]) => ({ name, ...group }))
    .sort((left, right) => right.changed - left.changed || left.name.localeCompare(right.name));
}
