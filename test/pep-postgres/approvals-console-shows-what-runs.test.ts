// Issue class 7 end to end: an agent's statement held by the Postgres PEP, judged by an approver
// in the web console (real Chromium), run by real PostgreSQL. What the console shows as comment
// and as code is what PostgreSQL then runs: the CR-ended comment shows OR id > 0 as code
// (denied: nothing changes), and a U+2028 "line break" shows as still comment (approved: one
// row changes, as the approver read it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startPepStack, type PepStack } from './pep-stack.ts';

describe('the console shows what PostgreSQL will run (Postgres PEP, Chromium)', () => {
  let stack: PepStack;
  let browser: Browser;
  let page: Page;
  let agent: string;
  const pageProblems: string[] = [];

  before(async () => {
    stack = await startPepStack({ resource: 'orders-db' });
    agent = await stack.token('agent-writer', ['writer']);
    const executablePath = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'chromium'], { encoding: 'utf8' }).trim();
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    await page.goto(`${stack.pdp.url}/console/`);
    await page.locator('#token-input').fill(await stack.consoleToken('alice', ['approver']));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="live"]').waitFor();
  });
  afterEach(() => assert.deepEqual(pageProblems.splice(0), []));
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  const held = async (client: pg.Client, sql: string): Promise<{ result: Promise<pg.QueryResult>; approvalId: string }> => {
    const notice = new Promise<string>((resolve) => client.once('notice', (message) => resolve(message.message ?? '')));
    const result = client.query(sql);
    result.catch(() => undefined);
    const approvalId = /approval ([0-9a-f-]{36})/.exec(await notice)?.[1];
    assert.ok(approvalId);
    return { result, approvalId };
  };

  /** Comments and code of the card's exact view, as the approver sees them. */
  const shown = async (approvalId: string): Promise<{ comments: string[]; code: string; suspicious: boolean }> => {
    const card = page.locator(`article.card[data-approval-id="${approvalId}"]`);
    await card.waitFor();
    await card.locator('button.view-choice[data-view="exact"]').click();
    const parts = await card.locator('pre.code.sql:not([hidden])').evaluate((pre) => {
      const comments: string[] = [];
      let code = '';
      for (const span of pre.querySelectorAll(':scope > code > span')) {
        if (span.classList.contains('sql-comment')) comments.push(span.textContent ?? '');
        else code += span.textContent ?? '';
      }
      return { comments, code: code.replace(/\s+/g, ' ').trim() };
    });
    return { ...parts, suspicious: /\bsuspicious\b/.test((await card.getAttribute('class')) ?? '') };
  };

  const changed = async (qty: number): Promise<number> => Number((await stack.pg.sql(`SELECT count(*) FROM orders WHERE qty = ${qty}`)).trim());

  it('the issue\'s statement: the console shows OR id > 0 as code; the approver denies; no row changes', async () => {
    const client = await stack.client(agent);
    const { result, approvalId } = await held(client, 'UPDATE orders SET qty = 700 WHERE id = 7 -- ticket OPS-42, one row only\rOR id > 0');
    const view = await shown(approvalId);
    assert.deepEqual(view.comments, ['-- ticket OPS-42, one row only']);
    assert.match(view.code, /WHERE id = 7 ⟨CR⟩ OR id > 0$/);
    assert.equal(view.suspicious, true);
    const card = page.locator(`article.card[data-approval-id="${approvalId}"]`);
    await card.locator('textarea').fill('the comment ends at a CR: this updates every row');
    await card.getByRole('button', { name: /Deny/ }).click();
    await assert.rejects(result, /approval-denied/);
    assert.equal(await changed(700), 0);
  });

  it('a U+2028 inside the comment: the console shows OR id > 0 as comment; approved, one row changes', async () => {
    const client = await stack.client(agent);
    const { result, approvalId } = await held(client, 'UPDATE orders SET qty = 800 WHERE id = 8 -- ticket OPS-43\u2028OR id > 0');
    const view = await shown(approvalId);
    assert.deepEqual(view.comments, ['-- ticket OPS-43⟨LS⟩OR id > 0']);
    assert.match(view.code, /WHERE id = 8$/);
    assert.equal(view.suspicious, true);
    const card = page.locator(`article.card[data-approval-id="${approvalId}"]`);
    await card.getByRole('button', { name: /Approve/ }).click();
    assert.equal((await result).rowCount, 1);
    assert.equal(await changed(800), 1);
  });
});
