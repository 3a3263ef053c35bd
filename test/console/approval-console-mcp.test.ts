import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

/**
 * An MCP tool call held for approval, as real Chromium shows it on the console's card: the tool
 * and its annotations, then each argument under its name — the SQL argument as SQL coloured by
 * PostgreSQL's lexer (the PDP's spans), a shell argument as the command, anything else as JSON —
 * and the arguments exactly as the approval binds them one click away.
 */
const MCP_DB_PROD = { type: 'mcp', name: 'mcp-db-prod', environment: 'production' };

describe('the console shows an MCP tool call with its arguments formatted', () => {
  let folder: string;
  let pdp: TestPdp;
  let browser: Browser;
  let page: Page;
  let agentToken: string;
  const pageProblems: string[] = [];

  before(async () => {
    // The starter policy, with a shell tool on the database server judged as commands on web-1.
    folder = mkdtempSync(join(tmpdir(), 'portcullis-mcp-console-policy-'));
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(folder, 'portcullis'), { recursive: true });
    const rulesFile = join(folder, 'portcullis/mcp_rules/data.json');
    const rules = JSON.parse(readFileSync(rulesFile, 'utf8'));
    rules.tool_arguments['mcp-db-prod'].run = { command: 'shell' };
    rules.servers['mcp-db-prod'].host = 'web-1';
    writeFileSync(rulesFile, JSON.stringify(rules));

    const executablePath = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'chromium'], { encoding: 'utf8' }).trim();
    pdp = await startTestPdp({ PORTCULLIS_POLICY_DIR: folder });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    agentToken = await pdp.token({ sub: 'agent-mcp', roles: ['writer'], kind: 'agent' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(`console error: ${message.text()}`);
    });
    await page.goto(`${pdp.url}/console/`);
    await page.locator('#token-input').fill(await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="live"]').waitFor();
  });

  afterEach(() => assert.deepEqual(pageProblems.splice(0), [], 'the page ran without errors'));

  after(async () => {
    await browser?.close();
    await pdp?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  async function hold(tool: string, args: Record<string, unknown>): Promise<string> {
    const { status, body } = await pdp.decide({
      subject_token: agentToken,
      resource: MCP_DB_PROD,
      action: { type: 'mcp', method: 'tools/call', tool, arguments: args, annotations: { readOnlyHint: false, destructiveHint: true } },
    });
    assert.equal(status, 200);
    assert.equal(body.effect, 'approval_required', JSON.stringify(body.reasons));
    return (body.approval as { id: string }).id;
  }

  it('shows a SQL argument as SQL by the lexer, the other arguments as JSON, and the exact arguments', async () => {
    const sql = "UPDATE orders SET status = 'shipped' WHERE id = $1 -- ticket 7";
    const id = await hold('execute', { sql, params: [7] });
    const card = page.locator(`article.card[data-approval-id="${id}"]`);
    await card.waitFor();
    assert.match(await card.locator('.mcp-call').textContent() ?? '', /^tools\/call execute/);
    assert.match(await card.locator('.mcp-annotations').textContent() ?? '', /destructiveHint: true/);

    await card.locator('button.view-choice[data-view="formatted"]').click();
    const sqlBlock = card.locator('.mcp-argument[data-argument="sql"][data-kind="sql"] pre.code.sql');
    assert.deepEqual(await sqlBlock.locator('.sql-string').allTextContents(), ["'shipped'"]);
    assert.deepEqual(await sqlBlock.locator('.sql-comment').allTextContents(), ['-- ticket 7']);
    assert.ok((await sqlBlock.locator('.sql-keyword').allTextContents()).map((word) => word.toUpperCase()).includes('UPDATE'));
    const params = card.locator('.mcp-argument[data-argument="params"][data-kind="json"] pre.code.json');
    assert.deepEqual(JSON.parse(await params.textContent() ?? ''), [7]);

    await card.locator('button.view-choice[data-view="exact"]').click();
    const exact = await card.locator('.action-mcp > pre.code.json:not([hidden])').textContent();
    assert.deepEqual(JSON.parse(exact ?? ''), { sql, params: [7] });
  });

  it('shows a shell argument as the command', async () => {
    const id = await hold('run', { command: 'touch /srv/app/ready && systemctl restart app' });
    const card = page.locator(`article.card[data-approval-id="${id}"]`);
    await card.waitFor();
    await card.locator('button.view-choice[data-view="formatted"]').click();
    const command = card.locator('.mcp-argument[data-argument="command"][data-kind="shell"] pre.code.shell');
    assert.equal(await command.textContent(), 'touch /srv/app/ready && systemctl restart app');
  });

  it('flags a SQL argument whose -- comment ends at a lone CR, as for a SQL statement', async () => {
    const id = await hold('execute', { sql: "UPDATE orders SET status = 'x' WHERE id = 7 -- only 7\rOR id > 0" });
    const card = page.locator(`article.card[data-approval-id="${id}"]`);
    await card.waitFor();
    assert.match(await card.getAttribute('class') ?? '', /\bsuspicious\b/);
    assert.match(await card.locator('.suspicious-note').textContent() ?? '', /lone carriage return/);
    await card.locator('button.view-choice[data-view="formatted"]').click();
    const sqlBlock = card.locator('.mcp-argument[data-argument="sql"] pre.code.sql');
    assert.ok(await sqlBlock.locator('.hidden-char[data-char="CR"]').count() > 0, 'a ⟨CR⟩ badge');
    const comments = (await sqlBlock.locator('.sql-comment').allTextContents()).join(' ');
    assert.match(comments, /only 7/);
    assert.doesNotMatch(comments, /id > 0/, 'what follows the CR is not shown as comment');
    assert.match(await sqlBlock.textContent() ?? '', /id > 0/);
  });
});
