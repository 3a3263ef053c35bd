import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

/**
 * The approver console end to end: Debian's Chromium (driven by playwright-core) against a real
 * PDP. Approvers sign in with dev-issuer tokens, a client's held command appears live, and what
 * the approver does in the page decides what the waiting client gets. Set
 * PORTCULLIS_SCREENSHOT_DIR to keep screenshots of each screen.
 */
const ORDERS_DB = { type: 'postgres', name: 'orders-db', environment: 'production' };
const SCREENSHOT_DIR = process.env.PORTCULLIS_SCREENSHOT_DIR;

interface ApprovalAnswer {
  approval: { id: string; status: string; decisions: { approver: string; verdict: string; reason: string }[] };
}

describe('the approver console at /console', () => {
  let pdp: TestPdp;
  let browser: Browser;
  let alice: { context: BrowserContext; page: Page };
  let agentToken: string;
  const held = { approved: '', denied: '', own: '' };
  /** Script errors and console errors (a CSP violation is one) from every page. */
  const pageProblems: string[] = [];

  before(async () => {
    const executablePath = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'chromium'], { encoding: 'utf8' }).trim();
    // A digest a second: the audit signing key (which the evidence report verifies with) exists early.
    pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    agentToken = await pdp.token({ sub: 'agent-billing', roles: ['reader', 'writer'], kind: 'agent' });
    alice = await openConsole();
    if (SCREENSHOT_DIR) mkdirSync(SCREENSHOT_DIR, { recursive: true });
  });

  afterEach(() => assert.deepEqual(pageProblems.splice(0), [], 'the page ran without errors'));

  after(async () => {
    await browser?.close();
    await pdp?.close();
  });

  async function openConsole(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(`console error: ${message.text()}`);
    });
    return { context, page };
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${pdp.url}/console/`);
    await page.locator('#token-input').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="live"]').waitFor();
  }

  /** In both colour schemes, when screenshots are asked for. */
  async function screenshot(page: Page, name: string): Promise<void> {
    if (!SCREENSHOT_DIR) return;
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-light.png`) });
    await page.emulateMedia({ colorScheme: 'dark' });
  }

  /** A client's command that policy holds for approval; resolves to the approval id. */
  async function holdCommand(sql: string, subjectToken = agentToken): Promise<string> {
    const { status, body } = await pdp.decide({
      subject_token: subjectToken,
      resource: ORDERS_DB,
      action: { type: 'sql', sql },
      session: { id: 'console-e2e', client_addr: '127.0.0.1' },
    });
    assert.equal(status, 200);
    assert.equal(body.effect, 'approval_required', JSON.stringify(body.reasons));
    return (body.approval as { id: string }).id;
  }

  /** What a PEP does while the human decides: long-poll until the approval leaves pending. */
  async function waitForResolution(id: string): Promise<ApprovalAnswer> {
    const response = await fetch(`${pdp.url}/v1/approvals/${id}?wait=30`, { headers: { authorization: `Bearer ${pdp.pepToken}` } });
    assert.equal(response.status, 200);
    return (await response.json()) as ApprovalAnswer;
  }

  async function resend(sql: string, approvalId: string, subjectToken = agentToken): Promise<{ effect: string; reasons: { code: string }[] }> {
    const { body } = await pdp.decide({ subject_token: subjectToken, resource: ORDERS_DB, action: { type: 'sql', sql }, session: { id: 'console-e2e', client_addr: '127.0.0.1' }, approval_id: approvalId });
    return body as unknown as { effect: string; reasons: { code: string }[] };
  }

  const card = (page: Page, id: string) => page.locator(`article.card[data-approval-id="${id}"]`);

  it('signs in with a pasted approver token (the page names the CLI that mints one) and shows the live, empty queue', async () => {
    const { page } = alice;
    await page.goto(`${pdp.url}/console/`);
    assert.match(await page.locator('.token-command').textContent() ?? '', /^npx portcullis token --console --sub <you> --role approver/);
    await screenshot(page, '01-sign-in');
    await signIn(page, await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' }));
    assert.equal(await page.locator('#me-name').textContent(), 'alice');
    await page.getByText('Nothing waiting for you').waitFor();
    assert.equal(await page.evaluate('window.localStorage.length'), 0, 'the token is never kept in localStorage');
  });

  it('shows a held DELETE live with who, what, where and why; Approve releases the waiting client, whose re-sent command is allowed', async () => {
    const { page } = alice;
    const sql = 'delete from orders where id = 7';
    const id = await holdCommand(sql);
    held.approved = id;
    const waiting = waitForResolution(id);

    const shown = card(page, id);
    await shown.waitFor();
    assert.equal(await shown.locator('.requester-sub').textContent(), 'agent-billing');
    assert.equal(await shown.locator('.kind-badge').textContent(), 'agent');
    assert.equal(await shown.locator('pre.code.sql:not([hidden])').textContent(), 'DELETE FROM orders\nWHERE id = 7');
    assert.equal(await shown.locator('.env-badge').textContent(), 'PRODUCTION');
    assert.equal(await shown.locator('.resource-name').textContent(), 'orders-db');
    assert.match(await shown.locator('.reasons').textContent() ?? '', /SQL that changes data in this environment needs approval/);
    assert.match(await shown.locator('.quorum').textContent() ?? '', /0 of 1 approval/);
    assert.match(await shown.locator('.countdown').textContent() ?? '', /expires in 1[45]:\d\d/);
    await shown.getByRole('button', { name: 'Exactly as sent' }).click();
    assert.equal(await shown.locator('pre.code.sql:not([hidden])').textContent(), sql);
    await screenshot(page, '02-queue-with-request');

    await shown.locator('textarea').fill('ticket OPS-7, checked with billing');
    await shown.getByRole('button', { name: /^Approve/ }).click();
    const answer = await waiting;
    assert.equal(answer.approval.status, 'approved');
    assert.deepEqual(answer.approval.decisions.map(({ approver, verdict, reason }) => ({ approver, verdict, reason })), [{ approver: 'alice', verdict: 'approve', reason: 'ticket OPS-7, checked with billing' }]);
    const decision = await resend(sql, id);
    assert.equal(decision.effect, 'allow');
    assert.ok(decision.reasons.some((reason) => reason.code === 'approval-granted'));

    await shown.locator('.outcome', { hasText: 'You approved' }).waitFor();
    await page.locator('.notice', { hasText: 'You approved' }).waitFor();
  });

  it('denies only with a reason typed in the page; the client gets denied with that reason and its re-sent command is denied', async () => {
    const { page } = alice;
    const sql = "UPDATE orders SET status = 'refunded' WHERE id = 8";
    const id = await holdCommand(sql);
    held.denied = id;
    const waiting = waitForResolution(id);

    const shown = card(page, id);
    await shown.waitFor();
    const deny = shown.getByRole('button', { name: /^Deny/ });
    assert.equal(await deny.isDisabled(), true, 'Deny waits for a reason');
    // By keyboard: select the request, write the reason, leave the field, deny.
    await page.keyboard.press('j');
    await page.locator(`article.card.selected[data-approval-id="${id}"]`).waitFor();
    await page.keyboard.press('r');
    await page.keyboard.type('no refunds during the freeze');
    assert.equal(await deny.isDisabled(), false);
    await page.keyboard.press('Escape');
    await page.keyboard.press('d');

    const answer = await waiting;
    assert.equal(answer.approval.status, 'denied');
    assert.equal(answer.approval.decisions[0]?.reason, 'no refunds during the freeze');
    const decision = await resend(sql, id);
    assert.equal(decision.effect, 'deny');
    assert.ok(decision.reasons.some((reason) => reason.code === 'approval-denied'));
    await shown.locator('.outcome', { hasText: 'You denied' }).waitFor();
  });

  it('refuses, visibly, a requester approving their own request; when another approver decides it, it leaves their queue with a notice', async () => {
    const danaToken = await pdp.token({ sub: 'dana', roles: ['reader', 'writer', 'approver'], kind: 'human' });
    const dana = await openConsole();
    try {
      await signIn(dana.page, await pdp.consoleToken({ sub: 'dana', roles: ['reader', 'writer', 'approver'], kind: 'human' }));
      const id = await holdCommand('DELETE FROM orders WHERE id = 9', danaToken);
      held.own = id;
      const own = card(dana.page, id);
      await own.waitFor();
      assert.match(await own.locator('.own-note').textContent() ?? '', /You asked for this yourself/);
      await own.getByRole('button', { name: /^Approve/ }).click();
      const refusal = own.locator('.refusal');
      await refusal.waitFor();
      assert.match(await refusal.textContent() ?? '', /You cannot approve your own request/);
      await screenshot(dana.page, '03-self-approval-refused');

      const other = card(alice.page, id);
      await other.waitFor();
      assert.match(await other.locator('.requester-sub').textContent() ?? '', /^dana$/);
      await other.getByRole('button', { name: /^Approve/ }).click();
      // The card stays a moment, closed and saying who decided, so nothing moves under the pointer; then it goes.
      await own.locator('.outcome', { hasText: 'alice approved' }).waitFor();
      assert.equal(await own.getByRole('button', { name: /^Approve/ }).isDisabled(), true);
      await dana.page.locator('.notice', { hasText: /alice approved: DELETE FROM orders WHERE id = 9/ }).waitFor();
      await own.waitFor({ state: 'detached' });
    } finally {
      await dana.context.close();
    }
  });

  it('keeps the queue through a lost connection and, reconnected, resumes after the last event it saw', async () => {
    const { page, context } = alice;
    const before = await holdCommand('DELETE FROM orders WHERE id = 10');
    await card(page, before).waitFor();
    const subscribes: { resume_from?: string }[] = [];
    page.on('websocket', (socket) => socket.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { type: string; resume_from?: string };
      if (message.type === 'subscribe') subscribes.push(message);
    }));

    await context.setOffline(true);
    await page.locator('#connection-banner').waitFor();
    assert.match(await page.locator('#connection-banner').textContent() ?? '', /reconnecting/i);
    const during = await holdCommand('DELETE FROM orders WHERE id = 11');
    assert.equal(await card(page, before).count(), 1, 'what was shown stays while the connection is down');
    await screenshot(page, '04-reconnecting');

    await context.setOffline(false);
    await card(page, during).waitFor({ timeout: 20_000 });
    await page.locator('#connection-banner').waitFor({ state: 'hidden' });
    assert.equal(await card(page, before).count(), 1);
    assert.match(subscribes[0]?.resume_from ?? '', /^\d+-\d+$/, 'the new connection resumes from the last event id');
  });

  it('highlights the request a deep link names, keeping the session across a reload', async () => {
    const { page } = alice;
    const id = await holdCommand('DELETE FROM orders WHERE id = 12');
    await page.goto(`${pdp.url}/console/#/approvals/${id}`);
    await page.reload();
    await page.locator(`article.card.linked[data-approval-id="${id}"]`).waitFor();
    assert.equal(await page.locator('article.card.linked').count(), 1);
    await screenshot(page, '05-deep-link');

    await page.goto(`${pdp.url}/console/#/approvals/${held.approved}`);
    await page.locator('.linked-panel', { hasText: 'no longer waiting' }).waitFor();
  });

  it('shows attacker-chosen SQL as text, with invisible and direction-changing characters marked', async () => {
    const { page } = alice;
    const sql = "UPDATE orders SET note = '<img src=x onerror=alert(1)>\u202E' WHERE id = 13";
    const id = await holdCommand(sql);
    const shown = card(page, id);
    await shown.waitFor();
    assert.match(await shown.locator('pre.code.sql:not([hidden])').textContent() ?? '', /'<img src=x onerror=alert\(1\)>⟨RLO⟩'/);
    assert.equal(await shown.locator('img').count(), 0);
    await shown.locator('.hidden-warning').waitFor();
    assert.match(await shown.getAttribute('class') ?? '', /\bsuspicious\b/);
  });

  it('lists resolved requests in History with verdicts, approvers, reasons and times', async () => {
    const { page } = alice;
    await page.getByRole('tab', { name: 'History' }).click();
    const approved = page.locator(`#history .history-item[data-approval-id="${held.approved}"]`);
    const denied = page.locator(`#history .history-item[data-approval-id="${held.denied}"]`);
    await approved.waitFor();
    assert.match(await approved.locator('summary').textContent() ?? '', /^APPROVED · EXECUTED.*delete from orders where id = 7/);
    await denied.locator('summary').click();
    const body = await denied.locator('.history-body').textContent() ?? '';
    assert.match(body, /alice denied/);
    assert.match(body, /no refunds during the freeze/);
    assert.ok(await denied.locator('time').count() > 0);
    await screenshot(page, '06-history');
  });

  it('renders the verified evidence report from /v1/audit/report', async () => {
    const { page } = alice;
    await page.getByRole('tab', { name: 'Evidence' }).click();
    await page.locator('.evidence-section h3', { hasText: 'Verification' }).waitFor({ timeout: 20_000 });
    await page.locator('.evidence-section .control-id', { hasText: 'AC-5' }).waitFor();
    await screenshot(page, '07-evidence');
  });

  it('lays SQL out without changing a single token: keywords upper-cased, a line per clause, literals untouched', async () => {
    const { page } = alice;
    // Tokens as the formatter's own tokenizer sees them, spaces dropped and words case-folded.
    const results = await page.evaluate(async (modulePath) => {
      const { formatSql, tokenizeSql } = await import(modulePath);
      return [
        'with d as (delete from orders where id = 1 returning *) select count(*) from d',
        "select 'from where', $q$ select 1 $q$, \"Order\" from t -- where\nwhere a = -1 and b::text like E'x\\'y' /* order by */ order by 1",
        'select 1 - -1, 3*-4; insert into t (a) values (1) on conflict (a) do update set a = 2',
      ].map((sql) => ({ sql, formatted: formatSql(sql) as string, before: tokenizeSql(sql), after: tokenizeSql(formatSql(sql)) }));
    }, '/console/js/sql-formatter.js');
    const significant = (tokens: { type: string; text: string }[]) => tokens.filter((token) => token.type !== 'space')
      .map((token) => (token.type === 'word' ? token.text.toLowerCase() : token.text));
    for (const result of results) assert.deepEqual(significant(result.after), significant(result.before), result.sql);
    assert.equal(results[0]!.formatted, 'WITH d AS (\n  DELETE FROM orders\n  WHERE id = 1\n  RETURNING *\n)\nSELECT count(*)\nFROM d');
    assert.match(results[1]!.formatted, /'from where', \$q\$ select 1 \$q\$, "Order"/);
    assert.match(results[1]!.formatted, /-- where\nWHERE a = -1 AND b::text LIKE E'x\\'y' \/\* order by \*\/\nORDER BY 1$/);
    assert.match(results[2]!.formatted, /^SELECT 1 - -1, 3 \* -4;\n\nINSERT INTO t \(a\)\nVALUES \(1\)\nON CONFLICT \(a\) DO UPDATE SET a = 2$/);
  });

  it('signs out on request, and returns to sign-in with a message when the token expires', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('.sign-in-message', { hasText: 'You are signed out.' }).waitFor();
    assert.equal(await page.evaluate('window.sessionStorage.length'), 0);

    await page.locator('#token-input').fill(await pdp.consoleToken({ sub: 'erin', roles: ['approver'], kind: 'human', ttlSeconds: 4 }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.sign-in-message', { hasText: /session expired/i }).waitFor();
    assert.equal(await page.locator('#app').isHidden(), true);
    assert.equal(await page.evaluate('window.sessionStorage.length'), 0);
  });
});
