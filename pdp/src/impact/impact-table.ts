import { CHANGE_KINDS } from './impact-change.ts';
import type { ImpactGroup, ImpactReport } from './impact-report.ts';
import { changeDetails, filterText, groupKindsText, headline, kindsText, outcomeText, periodText, verdict } from './impact-wording.ts';

/** The report for a terminal: aligned columns, every change with its details indented below it. */
export function renderImpactTable(report: ImpactReport, allowLoosening: boolean): string {
  const lines: string[] = [
    `policy impact of ${report.candidate.description} (revision ${report.candidate.revision})`,
    `candidate signature: ${report.candidate.signature}`,
    `on ${report.source}, ${periodText(report)}; filters: ${filterText(report)}`,
    `recorded under revision(s): ${report.recordedRevisions.join(', ') || 'none'}`,
    '',
    headline(report),
    `effects recorded:  ${effectsText(report.totals.recordedEffects)}`,
    `effects candidate: ${effectsText(report.totals.candidateEffects)}`,
  ];
  const kinds = CHANGE_KINDS.filter((kind) => report.totals.byKind[kind] > 0);
  if (kinds.length > 0) {
    lines.push('', ...columns([['change', 'decisions'], ...kinds.map((kind) => [kind, String(report.totals.byKind[kind])])]));
    lines.push('', ...groupTable('by rule/reason', report.byReason), '', ...groupTable('by principal', report.byPrincipal), '', ...groupTable('by resource', report.byResource));
    lines.push('', 'changes:');
    const rows = report.changes.map((change) => [change.time, change.decisionId, change.principal, change.resource, kindsText(change.change.kinds), `${outcomeText(change.recorded)} → ${outcomeText(change.candidate)}`, change.action]);
    const table = columns([['time', 'decision', 'principal', 'resource', 'change', 'recorded → candidate', 'action'], ...rows]);
    lines.push(table[0]!);
    report.changes.forEach((change, index) => {
      lines.push(table[index + 1]!, ...changeDetails(change).map((detail) => `    ${detail}`));
    });
  }
  if (report.skipped.length > 0) {
    lines.push('', 'NOT evaluated:');
    for (const skipped of report.skipped) lines.push(`  ${skipped.decisionId} (${skipped.where}): ${skipped.reason}`);
  }
  lines.push('', verdict(report, allowLoosening));
  return `${lines.join('\n')}\n`;
}

function effectsText(effects: Readonly<Record<string, number>>): string {
  return Object.entries(effects)
    .map(([effect, count]) => `${effect} ${count}`)
    .join(', ');
}

function groupTable(title: string, groups: readonly ImpactGroup[]): string[] {
  return columns([[title, 'changed', 'loosening', 'changes'], ...groups.map((group) => [group.name, String(group.changed), String(group.loosening), groupKindsText(group)])]);
}

/** Rows padded to their widest cell per column (the last column is left ragged). */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, [...cell].length)));
  return rows.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell + ' '.repeat(widths[index]! - [...cell].length)))
      .join('  ')
      .trimEnd(),
  );
}
