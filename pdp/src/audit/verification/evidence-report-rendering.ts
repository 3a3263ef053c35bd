import type { EvidenceCount, EvidenceReport } from './evidence-report.ts';
import { chartFigures, seconds } from './evidence-report-charts.ts';

export type ReportFormat = 'json' | 'md' | 'html';

/** The report as JSON (for tools), Markdown (for tickets and repos) or one self-contained HTML page. */
export function renderReport(report: EvidenceReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'md':
      return markdown(report);
    case 'html':
      return html(report);
    default:
      throw new TypeError(`renderReport: unknown format ${JSON.stringify(format)} (json, md or html)`);
  }
}

const ACRONYMS: Readonly<Record<string, string>> = { api: 'API', pep: 'PEP', peps: 'PEPs', ocsf: 'OCSF' };

function label(key: string): string {
  const words = key.split('_').map((word) => ACRONYMS[word] ?? word).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function countText(value: EvidenceCount): string {
  if (typeof value === 'number') return String(value);
  const entries = Object.entries(value);
  return entries.length === 0 ? 'none' : entries.map(([key, count]) => `${key}: ${count}`).join(', ');
}

function periodText(report: EvidenceReport): string {
  const { period } = report;
  const window = `${period.from ?? 'the beginning'} to ${period.to ?? 'now'}`;
  const found = period.first_record ? `records found from ${period.first_record} to ${period.last_record ?? period.first_record}` : 'no records in the period';
  return `Period ${window}; ${found}. Generated ${report.generated_at}.`;
}

// --- Markdown --------------------------------------------------------------------------------

/** Markdown allows raw HTML, so text from records is entity-escaped as well as table-escaped. */
function mdText(text: string): string {
  return text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;')).replace(/([\\`*_[\]|])/g, '\\$1');
}

function mdCell(text: string): string {
  return mdText(text).replace(/\r?\n/g, ' ');
}

/** A fence longer than any run of backticks inside, so record text cannot close it. */
function mdCode(text: string, language: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

function mdTable(rows: ReadonlyArray<[string, string]>): string {
  return ['| Measure | Value |', '|---|---|', ...rows.map(([name, value]) => `| ${mdCell(name)} | ${mdCell(value)} |`)].join('\n');
}

/** The charts' facts as rows, for Markdown (which cannot carry the SVG everywhere it is read). */
function chartRows(report: EvidenceReport): Array<[string, ReadonlyArray<[string, string]>]> {
  const { charts } = report;
  const latency = charts.approval_latency;
  return [
    ['Decisions over time by effect', charts.decisions_over_time.buckets.map((bucket) => [bucket.start, countText(bucket.counts)])],
    [`Approval latency (${latency.settled} settled, median ${seconds(latency.median_ms)}, p95 ${seconds(latency.p95_ms)})`, latency.buckets.map((bucket) => [bucket.label, String(bucket.count)])],
    ['Top denied reasons', charts.top_denied_reasons.map((row) => [row.reason, String(row.count)])],
    ['Masked cells by column', charts.masked_cells_by_column.map((row) => [row.column, String(row.cells)])],
  ];
}

function retentionRows(report: EvidenceReport): Array<[string, string]> {
  return report.retention.map((entry) => [
    entry.stream,
    `kept ${entry.retention}${entry.source ? ` (${entry.source})` : ''}${entry.stream === 'digests' ? '' : `; oldest record held ${entry.oldest_record ?? 'none'}, ${entry.records_held} held`}`,
  ]);
}

function startedFromText(start: EvidenceReport['verification']['started_from'][number]): string {
  return `${start.stream} chain of producer ${start.producer_id}: seq 0..${start.first_seq - 1} aged out; verified from seq ${start.first_seq}, against seq ${start.anchor_seq} signed by the ${start.checkpoint.event} record of ${start.checkpoint.time} (${start.checkpoint.where})`;
}

function markdown(report: EvidenceReport): string {
  const { verification } = report;
  const out: string[] = [`# ${mdText(report.title)}`, '', mdText(periodText(report)), ''];
  out.push(`## Verification: ${verification.ok ? 'verified' : 'FAILED'}`, '');
  out.push(mdTable(Object.entries(verification.counts).map(([key, value]) => [label(key), String(value)])), '');
  out.push(mdText(trustText(verification.trust)), '');
  if (verification.started_from.length > 0) {
    out.push('Verification started from a checkpoint (the oldest records aged out):', '', ...verification.started_from.map((start) => `- ${mdText(startedFromText(start))}`), '');
  }
  out.push('## Retention', '', mdTable(retentionRows(report)), '');
  for (const [title, rows] of chartRows(report)) {
    out.push(`### ${mdText(title)}`, '', rows.length === 0 ? '_None in the period._' : mdTable(rows), '');
  }
  if (verification.producers.length > 0) out.push('Producers:', '', ...verification.producers.map((producer) => `- ${mdText(producerText(producer))}`), '');
  if (verification.problems.length > 0) {
    out.push('Problems:', '', ...verification.problems.map((problem) => `- **${mdText(problem.kind)}**: ${mdText(problem.message)}`), '');
  }
  if (verification.notes.length > 0) {
    out.push('Notes:', '', ...verification.notes.map((note) => `- ${mdText(note)}`), '');
  }
  for (const control of report.controls) {
    out.push(`## ${control.id} ${mdText(control.title)}`, '', mdText(control.evidence), '');
    out.push(`**Verification:** ${control.verification.ok ? 'ok' : 'FAILED'}: ${mdText(control.verification.summary)}`, '');
    if (control.lines.length > 0) out.push(...control.lines.map((line) => `- ${line.ok ? '' : '**FAILED** '}${mdText(line.text)}`), '');
    out.push(mdTable(Object.entries(control.counts).map(([key, value]) => [label(key), countText(value)])), '');
    if (control.examples.length === 0) {
      out.push('_No example records in the period._', '');
    } else {
      out.push('Examples:', '', ...control.examples.map((example) => `${mdCode(JSON.stringify(example, null, 2), 'json')}\n`));
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// --- HTML ------------------------------------------------------------------------------------

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);
}

const STYLE = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #dde2ea; --ok: #1a7f4b; --bad: #b42318; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 980px; margin: 0 auto; padding: 32px 20px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; color: var(--muted); }
.meta { color: var(--muted); margin: 0 0 24px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin: 0 0 16px; }
.id { display: inline-block; min-width: 62px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted); }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px; margin-left: 8px; vertical-align: middle; }
.ok .badge, .badge.ok { background: #e3f4ea; color: var(--ok); }
.bad .badge, .badge.bad { background: #fde8e6; color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { width: 38%; font-weight: 500; color: var(--muted); }
pre { background: #f3f4f7; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-word; }
ul { padding-left: 20px; }
figure { margin: 12px 0 20px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
svg text { fill: var(--ink); }
li { margin: 4px 0; word-break: break-word; }
.kind { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 600; }
`;

function htmlTable(rows: ReadonlyArray<[string, string]>): string {
  return `<table>${rows.map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>`;
}

function trustText(trust: EvidenceReport['verification']['trust']): string {
  if (!trust) return 'Keys trusted: not stated.';
  const keys = trust.thumbprints.join(', ') || 'none';
  if (trust.source === 'audit-folder') return `Keys trusted: ${keys}, read from ${trust.path} beside the records (NOT pinned). ${trust.warning ?? ''}`.trim();
  return `Keys trusted: ${keys}, pinned ${trust.source === 'jwks-file' ? 'by the JWKS file' : 'by thumbprint, read from'} ${trust.path}.`;
}

function producerText(producer: EvidenceReport['verification']['producers'][number]): string {
  return [
    `${producer.producer_id}: ${producer.state}`,
    producer.started_at ? `started ${producer.started_at}` : undefined,
    producer.stopped_at ? `stopped ${producer.stopped_at}` : undefined,
    producer.durability ? `durability ${producer.durability}` : undefined,
    producer.signing_keys.length > 0 ? `signed by ${producer.signing_keys.join(', ')}` : undefined,
  ].filter(Boolean).join(', ');
}

function badge(ok: boolean, yes: string, no: string): string {
  return `<span class="badge ${ok ? 'ok' : 'bad'}">${escapeHtml(ok ? yes : no)}</span>`;
}

function html(report: EvidenceReport): string {
  const { verification } = report;
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(report.title)}</h1>`, `<p class="meta">${escapeHtml(periodText(report))}</p>`);
  parts.push(`<section class="${verification.ok ? 'ok' : 'bad'}"><h2>Verification${badge(verification.ok, 'verified', 'failed')}</h2>`);
  parts.push(htmlTable(Object.entries(verification.counts).map(([key, value]) => [label(key), String(value)])));
  parts.push(`<p class="${verification.trust?.source === 'audit-folder' || !verification.trust ? 'bad' : 'meta'}">${escapeHtml(trustText(verification.trust))}</p>`);
  if (verification.started_from.length > 0) {
    parts.push('<h3>Verification started from a checkpoint (the oldest records aged out)</h3><ul>', ...verification.started_from.map((start) => `<li>${escapeHtml(startedFromText(start))}</li>`), '</ul>');
  }
  if (verification.producers.length > 0) parts.push('<h3>Producers</h3><ul>', ...verification.producers.map((producer) => `<li>${escapeHtml(producerText(producer))}</li>`), '</ul>');
  if (verification.problems.length > 0) {
    parts.push('<h3>Problems</h3><ul>', ...verification.problems.map((problem) => `<li><span class="kind">${escapeHtml(problem.kind)}</span> ${escapeHtml(problem.message)}</li>`), '</ul>');
  }
  if (verification.notes.length > 0) {
    parts.push('<h3>Notes</h3><ul>', ...verification.notes.map((note) => `<li>${escapeHtml(note)}</li>`), '</ul>');
  }
  parts.push('</section>');
  parts.push('<section id="retention"><h2>Retention</h2>', htmlTable(retentionRows(report)), '</section>');
  parts.push('<section id="charts"><h2>Activity</h2>', ...chartFigures(report.charts), '</section>');
  for (const control of report.controls) {
    parts.push(`<section id="${escapeHtml(control.id)}" class="${control.verification.ok ? 'ok' : 'bad'}">`);
    parts.push(`<h2><span class="id">${escapeHtml(control.id)}</span>${escapeHtml(control.title)}${badge(control.verification.ok, 'verified', 'problems')}</h2>`);
    parts.push(`<p>${escapeHtml(control.evidence)}</p>`, `<p class="meta">${escapeHtml(control.verification.summary)}</p>`);
    if (control.lines.length > 0) parts.push('<ul>', ...control.lines.map((line) => `<li class="${line.ok ? 'ok' : 'bad'}">${escapeHtml(line.text)}${line.ok ? '' : badge(false, '', 'failed')}</li>`), '</ul>');
    parts.push(htmlTable(Object.entries(control.counts).map(([key, value]) => [label(key), countText(value)])));
    parts.push('<h3>Examples</h3>');
    parts.push(control.examples.length === 0
      ? '<p class="meta">No example records in the period.</p>'
      : control.examples.map((example) => `<pre>${escapeHtml(JSON.stringify(example, null, 2))}</pre>`).join(''));
    parts.push('</section>');
  }
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // No scripts, no remote content: the page works, and stays inert, offline.
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    `<body><main>${parts.join('\n')}</main></body>`,
    '</html>',
    '',
  ].join('\n');
}
