import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { recordShellSession, type RecordedShellSession } from '../support/recorded-shell-session.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

/**
 * The console's Sessions view end to end: Debian's Chromium (playwright-core) against a real PDP
 * whose audit trail holds sessions a PEP reported through the SDK. An auditor finds sessions by
 * principal, resource and time, opens one to see its commands with their decisions and approvals,
 * and plays its recording (asciinema-player, served by the PDP under the console's CSP).
 */
describe('the Sessions view at /console/#/sessions', () => {
  let pdp: TestPdp;
  let browser: Browser;
  let page: Page;
  let dana: RecordedShellSession;
  let erin: RecordedShellSession;
  const pageProblems: string[] = [];
  /** Set to keep screenshots of the view. */
  const screenshotDir = process.env.PORTCULLIS_SCREENSHOT_DIR;

  before(async () => {
    const executablePath = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'chromium'], { encoding: 'utf8' }).trim();
    pdp = await startTestPdp();
    dana = await recordShellSession(pdp, { sessionId: 'ssh-dana-console', principal: 'dana' });
    erin = await recordShellSession(pdp, { sessionId: 'ssh-erin-console', principal: 'erin', dropChunks: [2] });
    await pdp.auditEvents('sessions');
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
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
  });

  const rows = (p: Page) => p.locator('table.sessions tbody tr');
  /** One attribute of every element a locator finds, in page order. */
  const attributes = async (locator: ReturnType<Page['locator']>, name: string) => Promise.all((await locator.all()).map((item) => item.getAttribute(name)));

  it('lists the sessions newest first, and finds them by principal, resource and time', async () => {
    await page.locator('#tab-sessions').click();
    await rows(page).first().waitFor();
    assert.deepEqual(await attributes(rows(page), 'data-session-id'), [erin.sessionId, dana.sessionId]);
    const danaRow = page.locator(`tr[data-session-id="${dana.sessionId}"]`);
    assert.deepEqual(await danaRow.locator('td').allTextContents().then((cells) => cells.slice(1, 7)), ['dana', 'web-1', '2', '1', '1', '▶ recorded']);
    assert.equal(await page.locator(`tr[data-session-id="${erin.sessionId}"] td`).nth(6).textContent(), '▶ incomplete');

    await page.locator('#sessions-principal').fill('erin');
    await page.getByRole('button', { name: 'Find sessions' }).click();
    await page.getByText('1 session(s), newest first.').waitFor();
    assert.deepEqual(await attributes(rows(page), 'data-session-id'), [erin.sessionId]);

    await page.locator('#sessions-principal').fill('');
    await page.locator('#sessions-resource').fill('orders-db');
    await page.getByRole('button', { name: 'Find sessions' }).click();
    await page.getByText('No session matches.').waitFor();

    await page.locator('#sessions-resource').fill('web-1');
    await page.locator('#sessions-to').fill('2001-01-01T00:00');
    await page.getByRole('button', { name: 'Find sessions' }).click();
    await page.getByText('No session matches.').waitFor();
    await page.locator('#sessions-to').fill('');
    await page.getByRole('button', { name: 'Find sessions' }).click();
    await page.getByText('2 session(s), newest first.').waitFor();
    if (screenshotDir) await page.screenshot({ path: join(screenshotDir, 'sessions-list.png') });
  });

  it('shows a session\'s commands in order with their decisions, reasons and approvals', async () => {
    await page.locator(`tr[data-session-id="${dana.sessionId}"] a`).click();
    const head = page.locator(`.session-head[data-session-id="${dana.sessionId}"]`);
    await head.waitFor();
    assert.match(await head.textContent() ?? '', /dana \(human\) on web-1 \(production\) over shell from 127\.0\.0\.1/);
    assert.match(await head.textContent() ?? '', /ended: client-closed/);
    const commands = page.locator('li.session-command');
    assert.deepEqual(await attributes(commands, 'data-decision-id'),
      [dana.decisions.connect, dana.decisions.ls, dana.decisions.denied, dana.decisions.held, dana.decisions.approved]);
    const denied = page.locator(`li[data-decision-id="${dana.decisions.denied}"]`);
    assert.equal(await denied.locator('.status-badge').textContent(), 'DENIED');
    assert.equal(await denied.locator('.session-command-text').textContent(), 'rm -rf /var/lib/data');
    assert.match(await denied.locator('.reasons').textContent() ?? '', /no role of the principal grants write access on web-1/);
    assert.equal(await denied.locator('.session-run').count(), 0, 'a denied command never ran');
    const held = page.locator(`li[data-decision-id="${dana.decisions.held}"]`);
    assert.equal(await held.locator('.status-badge').textContent(), 'HELD FOR APPROVAL');
    assert.match(await held.locator('.session-approval').textContent() ?? '', new RegExp(`Approval ${dana.approvalId} (approved|executed) by alice`));
    const ran = page.locator(`li[data-decision-id="${dana.decisions.approved}"]`);
    assert.equal(await ran.locator('.status-badge').textContent(), 'ALLOWED');
    assert.match(await ran.locator('.session-approval').textContent() ?? '', new RegExp(`Approval ${dana.approvalId} (approved|executed) by alice`));
    assert.match(await ran.locator('.session-run').textContent() ?? '', /ran: success, 250 ms/);
  });

  it('plays the session\'s recording in the page, to the screen the client saw at the end', async () => {
    const player = page.locator('#session-player[data-state="ready"]');
    await player.waitFor();
    assert.match(await page.locator('.session-recording').textContent() ?? '', /Complete: \d+ chunk\(s\)/);
    await player.locator('.ap-player').click();
    await player.locator('.ap-term', { hasText: '✓ done 𝄞' }).waitFor();
    const screen = await player.locator('.ap-term').textContent() ?? '';
    assert.match(screen, /dana@web-1:~\$ ls -l \/var\/log/);
    assert.match(screen, /total 4/);
    if (screenshotDir) await page.screenshot({ path: join(screenshotDir, 'sessions-detail.png'), fullPage: true });
  });

  it('says what is missing from an incomplete recording', async () => {
    await page.goto(`${pdp.url}/console/#/sessions/${erin.sessionId}`);
    await page.locator('.recording-problem').waitFor();
    assert.match(await page.locator('.recording-problem').textContent() ?? '', /chunk\(s\) 2 are missing from the audit trail/);
  });

  it('answers the sessions API to auditors and approvers only', async () => {
    const agent = await pdp.token({ sub: 'agent-x', roles: ['reader'] });
    const refused = await fetch(`${pdp.url}/v1/sessions`, { headers: { authorization: `Bearer ${agent}` } });
    assert.ok([401, 403].includes(refused.status), `an agent's API token: ${refused.status}`);
    const approver = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const listed = await fetch(`${pdp.url}/v1/sessions?principal=dana`, { headers: { authorization: `Bearer ${approver}` } });
    assert.equal(listed.status, 200);
    assert.deepEqual(((await listed.json()) as { sessions: { id: string }[] }).sessions.map((session) => session.id), [dana.sessionId]);
    const cast = await fetch(`${pdp.url}/v1/sessions/${dana.sessionId}/recording`, { headers: { authorization: `Bearer ${approver}` } });
    assert.equal(cast.headers.get('content-type'), 'application/x-asciicast; charset=utf-8');
    assert.equal(cast.headers.get('portcullis-recording-final'), 'true');
    assert.equal(JSON.parse((await cast.text()).split('\n')[0]!).version, 2);
    const unknown = await fetch(`${pdp.url}/v1/sessions/no-such-session`, { headers: { authorization: `Bearer ${approver}` } });
    assert.equal(unknown.status, 404);
  });
});
