// The NIST SP 800-53 evidence report (GET /v1/audit/report), verified by the PDP before it
// answers: rendered here from its JSON form, and downloadable as the self-contained HTML page.
import { revealedText } from './action-display.js';
import { h, replaceChildren } from './dom-builder.js';
import { clockText } from './time-text.js';

const ACRONYMS = { api: 'API', pep: 'PEP', peps: 'PEPs', ocsf: 'OCSF' };

function label(key) {
  const words = key.split('_').map((word) => ACRONYMS[word] ?? word).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function countText(value) {
  if (typeof value === 'number') return String(value);
  const entries = Object.entries(value ?? {});
  return entries.length === 0 ? 'none' : entries.map(([key, count]) => `${key}: ${count}`).join(', ');
}

function countsTable(counts) {
  return h('table', { class: 'counts' }, h('tbody', {}, Object.entries(counts ?? {}).map(([key, value]) =>
    h('tr', {}, h('th', { scope: 'row' }, label(key)), h('td', {}, countText(value))))));
}

function verdictBadge(ok, yes, no) {
  return h('span', { class: `status-badge ${ok ? 'status-approved' : 'status-denied'}` }, ok ? yes : no);
}

export class EvidenceView {
  /** options: fetchReport(format, {from, to}) → Promise<Response>. */
  constructor(container, options) {
    this.options = options;
    this.from = h('input', { type: 'datetime-local', id: 'evidence-from' });
    this.to = h('input', { type: 'datetime-local', id: 'evidence-to' });
    this.showButton = h('button', { type: 'button', class: 'primary' }, 'Show report');
    this.downloadButton = h('button', { type: 'button', class: 'secondary' }, 'Download HTML');
    this.status = h('p', { class: 'muted', role: 'status' });
    this.body = h('div', { class: 'evidence-body' });
    this.showButton.addEventListener('click', () => void this.load());
    this.downloadButton.addEventListener('click', () => void this.download());
    container.replaceChildren(
      h('div', { class: 'section-head' }, h('h2', {}, 'Evidence report'),
        h('p', { class: 'muted' }, 'Verified against the audit trail (completeness, integrity, signatures) each time it is built.')),
      h('div', { class: 'evidence-controls' },
        h('label', { for: 'evidence-from' }, 'From', this.from),
        h('label', { for: 'evidence-to' }, 'To', this.to),
        this.showButton, this.downloadButton),
      this.status, this.body);
    this.loaded = false;
  }

  #period() {
    const toIso = (input) => (input.value ? new Date(input.value).toISOString() : undefined);
    return { from: toIso(this.from), to: toIso(this.to) };
  }

  async load() {
    this.loaded = true;
    this.status.textContent = 'Building and verifying the report…';
    this.showButton.disabled = true;
    try {
      const response = await this.options.fetchReport('json', this.#period());
      const report = await response.json();
      if (!response.ok) throw new Error(report.message ?? `HTTP ${response.status}`);
      this.#render(report);
      this.status.textContent = `Generated ${clockText(report.generated_at)}.`;
    } catch (error) {
      replaceChildren(this.body);
      this.status.textContent = `Could not build the report: ${error.message}`;
    } finally {
      this.showButton.disabled = false;
    }
  }

  async download() {
    this.status.textContent = 'Preparing the HTML report…';
    try {
      const response = await this.options.fetchReport('html', this.#period());
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const url = URL.createObjectURL(await response.blob());
      const link = h('a', { href: url, download: `portcullis-evidence-${new Date().toISOString().slice(0, 10)}.html` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.status.textContent = 'The HTML report was downloaded.';
    } catch (error) {
      this.status.textContent = `Could not download the report: ${error.message}`;
    }
  }

  #render(report) {
    const { verification } = report;
    const period = report.period ?? {};
    replaceChildren(this.body,
      h('section', { class: `evidence-section ${verification.ok ? 'ok' : 'bad'}` },
        h('h3', {}, 'Verification ', verdictBadge(verification.ok, 'VERIFIED', 'FAILED')),
        h('p', { class: 'muted' }, `Period ${period.from ?? 'the beginning'} to ${period.to ?? 'now'}; `,
          period.first_record ? `records from ${period.first_record} to ${period.last_record ?? period.first_record}.` : 'no records in the period.'),
        countsTable(verification.counts),
        verification.problems?.length ? h('ul', { class: 'problems' }, verification.problems.map((problem) =>
          h('li', {}, h('code', {}, problem.kind), ' ', revealedText(String(problem.message ?? ''))[0]))) : null,
        verification.notes?.length ? h('ul', { class: 'notes muted' }, verification.notes.map((note) => h('li', {}, note))) : null),
      (report.controls ?? []).map((control) => h('section', { class: `evidence-section ${control.verification.ok ? 'ok' : 'bad'}` },
        h('h3', {}, h('span', { class: 'control-id' }, control.id), ` ${control.title} `, verdictBadge(control.verification.ok, 'VERIFIED', 'PROBLEMS')),
        h('p', {}, control.evidence),
        h('p', { class: 'muted small' }, control.verification.summary),
        countsTable(control.counts),
        control.examples.length === 0
          ? h('p', { class: 'muted small' }, 'No example records in the period.')
          : control.examples.map((example, index) => h('details', { class: 'example' },
            h('summary', {}, `Example record ${index + 1}`),
            h('pre', { class: 'code json' }, h('code', {}, revealedText(JSON.stringify(example, null, 2))[0])))))));
  }
}
