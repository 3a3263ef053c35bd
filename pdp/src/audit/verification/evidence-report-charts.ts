import type { EvidenceCharts } from './evidence-report-facts.ts';

/**
 * The report's charts as inline SVG: no script, no font or image fetched, so the page stays
 * inert under its `default-src 'none'` policy. Every text drawn comes from records and is escaped;
 * each chart carries a <title> and a table-like <desc> so it reads without seeing it.
 */

const WIDTH = 900;
const EFFECT_COLOURS: Readonly<Record<string, string>> = { allow: '#1a7f4b', deny: '#b42318', approval_required: '#b54708' };
const OTHER_COLOUR = '#5b6478';
const BAR_COLOUR = '#3056a8';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[char] ?? char);
}

function svg(title: string, description: string, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`
    + `<title>${escapeXml(title)}</title><desc>${escapeXml(description)}</desc>${body}</svg>`;
}

function empty(title: string, what: string): string {
  return svg(title, `No ${what} in the period.`, 40, `<text x="0" y="24" fill="${OTHER_COLOUR}">No ${escapeXml(what)} in the period.</text>`);
}

/** Stacked columns: decisions per time bucket, one colour per effect, with a legend. */
export function decisionsOverTimeChart(data: EvidenceCharts['decisions_over_time']): string {
  const title = 'Decisions over time by effect';
  if (data.buckets.length === 0) return empty(title, 'decisions');
  const effects = [...new Set(data.buckets.flatMap((bucket) => Object.keys(bucket.counts)))].sort();
  const totals = data.buckets.map((bucket) => Object.values(bucket.counts).reduce((sum, count) => sum + count, 0));
  const max = Math.max(1, ...totals);
  const top = 28;
  const plot = 200;
  const left = 48;
  const step = (WIDTH - left) / data.buckets.length;
  const barWidth = Math.max(1, step * 0.8);
  const parts: string[] = [];
  effects.forEach((effect, index) => {
    const x = left + index * 170;
    parts.push(`<rect x="${x}" y="4" width="12" height="12" fill="${EFFECT_COLOURS[effect] ?? OTHER_COLOUR}"/><text x="${x + 18}" y="14">${escapeXml(effect)}</text>`);
  });
  parts.push(`<text x="${left - 6}" y="${top + 10}" text-anchor="end">${max}</text><text x="${left - 6}" y="${top + plot}" text-anchor="end">0</text>`);
  parts.push(`<line x1="${left}" y1="${top + plot}" x2="${WIDTH}" y2="${top + plot}" stroke="#dde2ea"/>`);
  data.buckets.forEach((bucket, index) => {
    let y = top + plot;
    const x = left + index * step;
    for (const effect of effects) {
      const count = bucket.counts[effect] ?? 0;
      if (count === 0) continue;
      const height = (count / max) * plot;
      y -= height;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}" fill="${EFFECT_COLOURS[effect] ?? OTHER_COLOUR}"><title>${escapeXml(`${bucket.start}: ${count} ${effect}`)}</title></rect>`);
    }
  });
  const first = data.buckets[0]!.start;
  const last = data.buckets.at(-1)!.start;
  parts.push(`<text x="${left}" y="${top + plot + 18}">${escapeXml(first)}</text><text x="${WIDTH}" y="${top + plot + 18}" text-anchor="end">${escapeXml(last)}</text>`);
  const description = `${data.buckets.length} buckets of ${data.bucket_ms / 60_000} min from ${first}; totals by effect: ${effects.map((effect) => `${effect} ${data.buckets.reduce((sum, bucket) => sum + (bucket.counts[effect] ?? 0), 0)}`).join(', ')}.`;
  return svg(title, description, top + plot + 26, parts.join(''));
}

/** Horizontal bars with their labels and values: top denied reasons, masked cells by column, latency. */
export function horizontalBarChart(title: string, what: string, rows: readonly { readonly label: string; readonly value: number }[]): string {
  if (rows.every((row) => row.value === 0)) return empty(title, what);
  const labelWidth = 300;
  const rowHeight = 22;
  const max = Math.max(1, ...rows.map((row) => row.value));
  const space = WIDTH - labelWidth - 60;
  const parts = rows.map((row, index) => {
    const y = index * rowHeight;
    const width = (row.value / max) * space;
    const label = row.label.length > 46 ? `${row.label.slice(0, 45)}…` : row.label;
    return `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeXml(label)}</text>`
      + `<rect x="${labelWidth}" y="${y + 3}" width="${width.toFixed(1)}" height="${rowHeight - 6}" fill="${BAR_COLOUR}"/>`
      + `<text x="${(labelWidth + width + 6).toFixed(1)}" y="${y + 15}">${row.value}</text>`;
  });
  const description = rows.map((row) => `${row.label}: ${row.value}`).join('; ');
  return svg(title, description, rows.length * rowHeight + 4, parts.join(''));
}

/** The four charts, titled, as HTML figures. */
export function chartFigures(charts: EvidenceCharts): string[] {
  const latency = charts.approval_latency;
  const latencyCaption = latency.settled === 0
    ? 'Approval latency: no approval settled in the period.'
    : `Approval latency, requested to approved or denied: ${latency.settled} settled, median ${seconds(latency.median_ms)}, p95 ${seconds(latency.p95_ms)}, max ${seconds(latency.max_ms)}.`;
  return [
    figure('Decisions over time by effect', decisionsOverTimeChart(charts.decisions_over_time)),
    figure(latencyCaption, horizontalBarChart('Approval latency', 'settled approvals', latency.buckets.map((bucket) => ({ label: bucket.label, value: bucket.count })))),
    figure('Top denied reasons', horizontalBarChart('Top denied reasons', 'denials', charts.top_denied_reasons.map((row) => ({ label: row.reason, value: row.count })))),
    figure('Masked cells by column (columns masked together share a bar)', horizontalBarChart('Masked cells by column', 'masked cells', charts.masked_cells_by_column.map((row) => ({ label: row.column, value: row.cells })))),
  ];
}

function figure(caption: string, chart: string): string {
  return `<figure>${chart}<figcaption>${escapeXml(caption)}</figcaption></figure>`;
}

export function seconds(ms: number | null): string {
  if (ms === null) return 'n/a';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 60_000 ? 1 : 0)} s`;
}
