import { CHANGE_KINDS } from './impact-change.ts';
import type { ImpactGroup, ImpactReport } from './impact-report.ts';
import { changeDetails, filterText, groupKindsText, headline, kindsText, outcomeText, periodText, verdict } from './impact-wording.ts';

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d232a}table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccd;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f1f3f7}td.n{text-align:right}.loose{background:#fde8e8}.verdict{font-weight:600}.bad{color:#a40e0e}.ok{color:#11693a}ul{margin:0;padding-left:1.1rem}code{font-size:12px}`;

/** The report as one self-contained HTML page: inline style, no scripts, nothing fetched. */
export function renderImpactHtml(report: ImpactReport, allowLoosening: boolean): string {
  const gating = report.totals.skipped > 0 || (report.totals.loosening > 0 && !allowLoosening);
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Policy impact</title>',
    `<style>${STYLE}</style></head><body>`,
    '<h1>Policy impact</h1>',
    `<p>Candidate: ${escapeHtml(report.candidate.description)} (revision <code>${escapeHtml(report.candidate.revision)}</code>)<br>`,
    `Candidate signature: ${escapeHtml(report.candidate.signature)}<br>`,
    `Recorded decisions: ${escapeHtml(report.source)}, ${escapeHtml(periodText(report))}; filters: ${escapeHtml(filterText(report))}<br>`,
    `Recorded under revision(s): ${escapeHtml(report.recordedRevisions.join(', ') || 'none')}</p>`,
    `<p>${escapeHtml(headline(report))}</p>`,
    `<p class="verdict ${gating ? 'bad' : 'ok'}">${escapeHtml(verdict(report, allowLoosening))}</p>`,
    table(['change', 'decisions'], CHANGE_KINDS.map((kind) => [kind, report.totals.byKind[kind]])),
  ];
  if (report.changes.length > 0) {
    parts.push(groupTable('By rule/reason', report.byReason), groupTable('By principal', report.byPrincipal), groupTable('By resource', report.byResource));
    parts.push('<h2>Changes</h2><table><tr>', ...['time', 'decision', 'principal', 'resource', 'change', 'recorded → candidate', 'action', 'details'].map((name) => `<th>${escapeHtml(name)}</th>`), '</tr>');
    for (const change of report.changes) {
      const cells = [change.time, change.decisionId, change.principal, change.resource, kindsText(change.change.kinds), `${outcomeText(change.recorded)} → ${outcomeText(change.candidate)}`, change.action];
      const details = `<ul>${changeDetails(change).map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
      parts.push(`<tr${change.change.loosening.length > 0 ? ' class="loose"' : ''}>${cells.map((text) => `<td>${escapeHtml(text)}</td>`).join('')}<td>${details}</td></tr>`);
    }
    parts.push('</table>');
  }
  if (report.skipped.length > 0) {
    parts.push('<h2>Not evaluated</h2>', table(['decision', 'where', 'why'], report.skipped.map((skipped) => [skipped.decisionId, skipped.where, skipped.reason])));
  }
  parts.push('</body></html>\n');
  return parts.join('');
}

function groupTable(title: string, groups: readonly ImpactGroup[]): string {
  return `<h2>${escapeHtml(title)}</h2>${table(['name', 'changed', 'loosening', 'changes'], groups.map((group) => [group.name, group.changed, group.loosening, groupKindsText(group)]))}`;
}

function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const head = `<tr>${header.map((name) => `<th>${escapeHtml(name)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((value) => (typeof value === 'number' ? `<td class="n">${value}</td>` : `<td>${escapeHtml(value)}</td>`)).join('')}</tr>`).join('');
  return `<table>${head}${body}</table>`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
