import type { ReplayOutcome } from '../replay/recorded-policy-outcome.ts';
import { reasonCodes, type ChangeKind, type MaskChange } from './impact-change.ts';
import type { ChangedDecision, ImpactGroup, ImpactReport } from './impact-report.ts';

/** The words every format uses for the same facts, so the table, Markdown and HTML agree. */

export function headline(report: ImpactReport): string {
  const { totals } = report;
  return `${totals.decisions} decision(s): ${totals.evaluated} evaluated, ${totals.unchanged} unchanged, ${totals.changed} changed (${totals.loosening} loosening)${totals.skipped > 0 ? `, ${totals.skipped} NOT evaluated` : ''}`;
}

export function periodText(report: ImpactReport): string {
  return `${report.period.from ?? 'the beginning'} → ${report.period.to ?? 'now'}`;
}

export function filterText(report: ImpactReport): string {
  const parts = [report.filters.principal === null ? undefined : `principal ${report.filters.principal}`, report.filters.resource === null ? undefined : `resource ${report.filters.resource}`].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** What a report ends with: whether this would pass a gate. */
export function verdict(report: ImpactReport, allowLoosening: boolean): string {
  if (report.totals.skipped > 0) return `INCOMPLETE: ${report.totals.skipped} decision record(s) could not be evaluated (listed above)`;
  if (report.totals.loosening === 0) return report.totals.changed === 0 ? 'no decision changes' : 'no loosening: every change tightens or rewords';
  return allowLoosening ? `${report.totals.loosening} loosening change(s), allowed by --allow-loosening` : `${report.totals.loosening} loosening change(s): this candidate lets through what the recorded policy stopped`;
}

export function outcomeText(outcome: ReplayOutcome): string {
  const codes = reasonCodes(outcome.reasons);
  return `${outcome.effect}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`;
}

export function maskText(mask: MaskChange): string {
  if (mask.candidate === undefined) return `${mask.target}: ${mask.recorded} → removed`;
  if (mask.recorded === undefined) return `${mask.target}: added, ${mask.candidate}`;
  return `${mask.target}: ${mask.recorded} → ${mask.candidate}`;
}

/** The details of one change, one line each. */
export function changeDetails(change: ChangedDecision): string[] {
  const lines: string[] = [];
  const { reasonsAdded, reasonsRemoved, masks, obligations, loosening } = change.change;
  if (reasonsAdded.length > 0) lines.push(`reasons added: ${reasonsAdded.join(', ')}`);
  if (reasonsRemoved.length > 0) lines.push(`reasons removed: ${reasonsRemoved.join(', ')}`);
  for (const mask of masks) lines.push(`mask ${maskText(mask)}`);
  if (obligations.length > 0) lines.push(`obligations changed: ${obligations.join(', ')}`);
  if (change.change.kinds.includes('approval requirement changed')) lines.push(`approval requirement: ${JSON.stringify(change.recorded.approval ?? null)} → ${JSON.stringify(change.candidate.approval ?? null)}`);
  if (loosening.length > 0) lines.push(`LOOSENING: ${loosening.join('; ')}`);
  if (change.withheld.length > 0) lines.push(`note: the record withholds ${change.withheld.join(', ')} (credentials); the candidate saw them absent`);
  return lines;
}

export function kindsText(kinds: readonly ChangeKind[]): string {
  return kinds.join(', ');
}

export function groupKindsText(group: ImpactGroup): string {
  return Object.entries(group.byKind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
}
