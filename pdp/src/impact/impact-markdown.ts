import { CHANGE_KINDS } from './impact-change.ts';
import type { ImpactGroup, ImpactReport } from './impact-report.ts';
import { changeDetails, filterText, groupKindsText, headline, kindsText, outcomeText, periodText, verdict } from './impact-wording.ts';

/** The report as Markdown, e.g. for a pull request comment. */
export function renderImpactMarkdown(report: ImpactReport, allowLoosening: boolean): string {
  const out: string[] = [
    '# Policy impact',
    '',
    `Candidate: ${cell(report.candidate.description)} (revision \`${cell(report.candidate.revision)}\`)  `,
    `Candidate signature: ${cell(report.candidate.signature)}  `,
    `Recorded decisions: ${cell(report.source)}, ${cell(periodText(report))}; filters: ${cell(filterText(report))}  `,
    `Recorded under revision(s): ${cell(report.recordedRevisions.join(', ') || 'none')}`,
    '',
    `**${cell(headline(report))}**`,
    '',
    `**${cell(verdict(report, allowLoosening))}**`,
    '',
    '| change | decisions |',
    '|---|---:|',
    ...CHANGE_KINDS.map((kind) => `| ${kind} | ${report.totals.byKind[kind]} |`),
  ];
  if (report.changes.length > 0) {
    out.push('', ...groupTable('By rule/reason', report.byReason), '', ...groupTable('By principal', report.byPrincipal), '', ...groupTable('By resource', report.byResource));
    out.push('', '## Changes', '', '| time | decision | principal | resource | change | recorded → candidate | action | details |', '|---|---|---|---|---|---|---|---|');
    for (const change of report.changes) {
      out.push(
        `| ${[change.time, change.decisionId, change.principal, change.resource, kindsText(change.change.kinds), `${outcomeText(change.recorded)} → ${outcomeText(change.candidate)}`, change.action, changeDetails(change).join('; ')].map(cell).join(' | ')} |`,
      );
    }
  }
  if (report.skipped.length > 0) {
    out.push('', '## Not evaluated', '', '| decision | where | why |', '|---|---|---|');
    for (const skipped of report.skipped) out.push(`| ${cell(skipped.decisionId)} | ${cell(skipped.where)} | ${cell(skipped.reason)} |`);
  }
  return `${out.join('\n')}\n`;
}

function groupTable(title: string, groups: readonly ImpactGroup[]): string[] {
  return [`### ${title}`, '', '| name | changed | loosening | changes |', '|---|---:|---:|---|', ...groups.map((group) => `| ${cell(group.name)} | ${group.changed} | ${group.loosening} | ${cell(groupKindsText(group))} |`)];
}

/** Markdown allows raw HTML and table syntax: text from records is entity-escaped and kept on one line. */
function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/`/g, '\\`')
    .replace(/[\r\n]+/g, ' ');
}
