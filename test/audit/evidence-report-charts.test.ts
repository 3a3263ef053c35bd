import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { EvidenceReport } from '@portcullis/pdp';
import { deleteOrder, requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { auditCli } from '../support/audit-cli.ts';
import { startTestPdp } from '../support/pdp-harness.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

const PROD_DB = { type: 'postgres', name: 'orders-db', environment: 'production' };

/** The page's XML parser and serializer (this file is typed without the DOM library). */
interface PageXml {
  DOMParser: new () => { parseFromString(source: string, type: string): { getElementsByTagName(name: string): { length: number } } };
  XMLSerializer: new () => { serializeToString(node: unknown): string };
}

describe('the evidence report draws its facts: inline SVG charts in HTML, the same facts in JSON', () => {
  let stateDir: string;
  let json: EvidenceReport;
  let html: string;
  let browser: Browser;

  before(async () => {
    const pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    stateDir = pdp.stateDir;
    const reader = await pdp.token({ sub: 'agent-charts', roles: ['reader'] });
    const writer = await pdp.token({ sub: 'agent-writer', roles: ['reader', 'writer'] });
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const decide = async (token: string, sql: string) => (await pdp.decide({ subject_token: token, resource: PROD_DB, action: { type: 'sql', sql }, session: { id: 'sess-charts', client_addr: '127.0.0.1' } })).body;
    for (let round = 0; round < 3; round += 1) await decide(reader, 'DELETE FROM orders');
    await decide('not-a-token', 'SELECT 1');
    const masked = await decide(reader, 'SELECT email FROM users');
    assert.equal(masked.effect, 'allow');
    assert.ok(((masked.obligations as { mask?: unknown[] }).mask ?? []).length > 0, 'the starter policy masks users.email');
    const approval = await requestApproval(pdp, deleteOrder(writer, 7));
    assert.equal((await vote(pdp.url, alice, approval.id, 'approve', 'ticket OPS-7')).status, 200);
    // The PEP reports the statement it ran under the masked decision, with the cells it masked.
    const event = {
      event: 'session.statement', event_id: randomUUID(), time: new Date().toISOString(), subject_token: reader,
      session: { id: 'sess-charts', client_addr: '127.0.0.1' }, protocol: 'sql', resource: PROD_DB,
      statement: { text: 'SELECT email FROM users', kind: 'select' }, decision_id: masked.decision_id, status: 'success', duration_ms: 1, rows: 5, bytes: 100, masked_cells: 5,
    };
    const posted = await fetch(`${pdp.url}/v1/sessions/events`, { method: 'POST', headers: { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ events: [event] }) });
    assert.equal(posted.status, 202);
    await pdp.close({ keepState: true });
    json = JSON.parse((await auditCli(stateDir, 'report', '--format', 'json')).stdout) as EvidenceReport;
    html = (await auditCli(stateDir, 'report', '--format', 'html')).stdout;
    const executablePath = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'chromium'], { encoding: 'utf8' }).trim();
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('the JSON format carries the facts: decisions by effect over time, approval latency, denied reasons, masked cells by column', () => {
    const { charts } = json;
    const byEffect = new Map<string, number>();
    for (const bucket of charts.decisions_over_time.buckets) for (const [effect, count] of Object.entries(bucket.counts)) byEffect.set(effect, (byEffect.get(effect) ?? 0) + count);
    assert.deepEqual(Object.fromEntries(byEffect), json.controls.find((control) => control.id === 'AC-3')!.counts.decisions_by_effect);
    assert.equal(charts.approval_latency.settled, 1);
    assert.ok(charts.approval_latency.median_ms !== null && charts.approval_latency.median_ms >= 0);
    const denials = json.controls.find((control) => control.id === 'AC-6')!.counts.denials_by_reason as Record<string, number>;
    assert.deepEqual(Object.fromEntries(charts.top_denied_reasons.map((row) => [row.reason, row.count])), denials);
    assert.deepEqual(charts.masked_cells_by_column, [{ column: 'users.email', cells: 5 }]);
  });

  it('the HTML page renders four SVG charts in Chromium, each well-formed XML, with no script and nothing fetched', async () => {
    assert.equal(/<script/i.test(html), false);
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.setContent(html);
    const charts = await page.$$eval('svg', (nodes) => nodes.map((node) => {
      const box = node.getBoundingClientRect();
      const xml = globalThis as unknown as PageXml;
      const parsed = new xml.DOMParser().parseFromString(new xml.XMLSerializer().serializeToString(node), 'image/svg+xml');
      return { title: node.querySelector('title')?.textContent ?? '', width: box.width, height: box.height, bars: node.querySelectorAll('rect').length, wellFormed: parsed.getElementsByTagName('parsererror').length === 0 };
    }));
    assert.deepEqual(charts.map((chart) => chart.title), ['Decisions over time by effect', 'Approval latency', 'Top denied reasons', 'Masked cells by column']);
    for (const chart of charts) {
      assert.ok(chart.wellFormed, chart.title);
      assert.ok(chart.width > 100 && chart.height > 20, `${chart.title} is drawn (${chart.width}×${chart.height})`);
      assert.ok(chart.bars > 0, `${chart.title} has bars`);
    }
    assert.deepEqual(requests.filter((url) => !url.startsWith('about:') && !url.startsWith('data:')), []);
    await page.close();
    // Each chart's SVG source parses as XML on its own, as an SVG file would.
    for (const svg of html.match(/<svg[\s\S]*?<\/svg>/g) ?? []) {
      const check = await browser.newPage();
      const errors = await check.evaluate((source) => new (globalThis as unknown as PageXml).DOMParser().parseFromString(source, 'image/svg+xml').getElementsByTagName('parsererror').length, svg);
      assert.equal(errors, 0);
      await check.close();
    }
  });

  it('Markdown states the same facts as tables', async () => {
    const md = (await auditCli(stateDir, 'report', '--format', 'md')).stdout;
    assert.match(md, /### Masked cells by column\n\n\| Measure \| Value \|\n\|---\|---\|\n\| users\.email \| 5 \|/);
    assert.match(md, /### Approval latency \(1 settled/);
    assert.match(md, /## Retention/);
  });
});
