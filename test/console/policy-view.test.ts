import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { installedOpa, startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { starterPackWithData } from '../support/shadow-candidates.ts';

/**
 * The console's Policy view end to end: Debian's Chromium against a real PDP running a
 * candidate in shadow (the starter pack without analytics-db). An auditor sees the live and
 * shadow revisions, the impact command for the candidate, and a decision that differs appear
 * while the view is open, without reloading.
 */
describe('the Policy view at /console/#/policy', () => {
  let pdp: TestPdp;
  let candidate: string;
  let browser: Browser;
  let page: Page;
  const pageProblems: string[] = [];

  before(async () => {
    const executablePath = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'chromium'], { encoding: 'utf8' }).trim();
    candidate = starterPackWithData((data) => delete data.resources['analytics-db']);
    pdp = await startTestPdp({ PORTCULLIS_SHADOW_POLICY_DIR: candidate, PORTCULLIS_OPA_PATH: installedOpa() });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    page = await context.newPage();
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(`console error: ${message.text()}`);
    });
    await page.goto(`${pdp.url}/console/`);
    await page.locator('#token-input').fill(await pdp.consoleToken({ sub: 'avery', roles: ['auditor'], kind: 'human' }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="live"]').waitFor();
  });

  afterEach(() => assert.deepEqual(pageProblems.splice(0), [], 'the page ran without errors (a CSP violation is one)'));

  after(async () => {
    await browser?.close();
    await pdp?.close();
    rmSync(candidate, { recursive: true, force: true });
  });

  const row = (section: string, name: string) => page.locator(`.${section} tr`).filter({ has: page.locator('th', { hasText: new RegExp(`^${name}$`) }) }).locator('td');

  it('shows both revisions, the impact command, and a difference as it happens', async () => {
    await page.keyboard.press('5');
    await page.locator('#view-policy:not([hidden])').waitFor();
    const liveRevision = (await pdp.health()).policy_revision as string;
    await row('policy-live', 'Revision').filter({ hasText: new RegExp(`^${liveRevision.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor();
    await row('policy-shadow', 'State').filter({ hasText: /^active$/ }).waitFor();
    const shadowRevision = await row('policy-shadow', 'Revision').textContent();
    assert.ok(shadowRevision && shadowRevision !== liveRevision, 'the candidate has its own revision');
    assert.match(await page.locator('.policy-impact-command').textContent() ?? '', new RegExp(`^portcullis policy impact --bundle ${candidate} --from \\S+ --format html --out impact.html$`));
    await page.getByText('None: the candidate answers every decision so far as the live policy does.').waitFor();

    const agent = await pdp.token({ sub: 'agent-on-screen', roles: ['reader'] });
    const same = await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db', environment: 'production' }, action: { type: 'sql', sql: 'SELECT 1' } });
    const differing = await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'analytics-db', environment: 'staging' }, action: { type: 'sql', sql: 'SELECT 1' } });
    assert.equal(same.body.effect, 'allow');
    assert.equal(differing.body.effect, 'allow', 'the live policy answers');

    const shown = page.locator(`tr[data-decision-id="${differing.body.decision_id}"] td`);
    await shown.first().waitFor();
    const cells = await shown.allTextContents();
    assert.deepEqual(cells.slice(1, 6), ['agent-on-screen', 'postgres analytics-db', 'sql', 'allow → deny', 'effect, reasons']);
    assert.match(cells[6]!, /→ .*unknown-resource/);
    assert.equal(await page.locator('table.policy-difference-table tbody tr').count(), 1, 'the decision the candidate agrees with is not listed');
    assert.equal(await row('policy-shadow', 'Evaluated').textContent(), '2 (1 different, 1 the same)');
  });
});
