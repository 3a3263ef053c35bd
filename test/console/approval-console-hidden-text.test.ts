import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { loadModule, scanSync } from 'libpg-query';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HIDDEN_CHARACTER, hiddenCharacterName } from '@portcullis/pdp';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

/**
 * The console shows what the server will parse (issue class 7): what real Chromium shows as a
 * comment, a literal or code for SQL an attacker shaped to hide code in a comment or a comment
 * in code, checked against PostgreSQL's own lexer (libpg-query's scanner) — and every hidden
 * character shown by name on a card flagged as suspicious, with the exact text one click away.
 */
const ORDERS_DB = { type: 'postgres', name: 'orders-db', environment: 'production' };

/** What one view of a card shows: comment texts, literal texts, and the code (the rest), joined. */
interface Shown {
  comments: string[];
  strings: string[];
  code: string;
  text: string;
}

describe('the console shows SQL as PostgreSQL lexes it', () => {
  let pdp: TestPdp;
  let browser: Browser;
  let page: Page;
  let agentToken: string;
  const pageProblems: string[] = [];

  before(async () => {
    await loadModule();
    const executablePath = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'chromium'], { encoding: 'utf8' }).trim();
    pdp = await startTestPdp({ PORTCULLIS_APPROVAL_MAX_PENDING_PER_PRINCIPAL: '1000' });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    agentToken = await pdp.token({ sub: 'agent-tricks', roles: ['writer'], kind: 'agent' });
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
  });

  async function hold(sql: string): Promise<string> {
    const { status, body } = await pdp.decide({ subject_token: agentToken, resource: ORDERS_DB, action: { type: 'sql', sql } });
    assert.equal(status, 200);
    assert.equal(body.effect, 'approval_required', `${JSON.stringify(sql)}: ${JSON.stringify(body.reasons)}`);
    return (body.approval as { id: string }).id;
  }

  async function shown(id: string, view: 'formatted' | 'exact'): Promise<Shown> {
    const card = page.locator(`article.card[data-approval-id="${id}"]`);
    await card.waitFor();
    await card.locator(`button.view-choice[data-view="${view}"]`).click();
    return card.locator('pre.code.sql:not([hidden])').evaluate((pre) => {
      const comments: string[] = [];
      const strings: string[] = [];
      let code = '';
      for (const span of pre.querySelectorAll(':scope > code > span')) {
        const text = span.textContent ?? '';
        if (span.classList.contains('sql-comment')) comments.push(text);
        else if (span.classList.contains('sql-string')) strings.push(text);
        else code += text;
      }
      return { comments, strings, code: code.replace(/\s+/g, ' ').trim(), text: pre.textContent ?? '' };
    });
  }

  /** PostgreSQL's own lexer on the same text: comments and code tokens (badges aside). */
  function lexed(sql: string): { comments: string[]; code: string } {
    const bytes = Buffer.from(sql, 'utf8');
    // The scanner's JSON breaks on raw controls in a token: stand-ins of one byte, offsets kept.
    const tokens = scanSync(sql.replace(/[\v\f]/g, ' ').replace(/[\u0000-\u0008\u000e-\u001f]/g, '#')).tokens.map((token) => ({ ...token, text: bytes.subarray(token.start, token.end).toString('utf8') }));
    return {
      comments: tokens.filter((token) => token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT').map((token) => token.text),
      code: tokens.filter((token) => !['SQL_COMMENT', 'C_COMMENT', 'SCONST', 'USCONST'].includes(token.tokenName) && !/^[uU]&'|^[bBxX]'/.test(token.text)).map((token) => token.text).join(' '),
    };
  }

  const badges = (text: string) => text.replace(HIDDEN_CHARACTER, (character) => `⟨${hiddenCharacterName(character)}⟩${character === '\r' ? '\n' : ''}`);
  const words = (text: string) => text.replace(/⟨[A-Z0-9+]+⟩/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();

  async function expectShownAsLexed(sql: string, check: (views: Record<'formatted' | 'exact', Shown>) => void): Promise<string> {
    const id = await hold(sql);
    const views = { formatted: await shown(id, 'formatted'), exact: await shown(id, 'exact') };
    const oracle = lexed(sql);
    for (const view of ['formatted', 'exact'] as const) {
      assert.deepEqual(views[view].comments.map(words), oracle.comments.map((comment) => words(badges(comment))), `${view}: comments as PostgreSQL lexes them`);
      assert.equal(words(views[view].code).replace(/\s/g, ''), words(badges(oracle.code)).replace(/\s/g, ''), `${view}: code as PostgreSQL lexes it`);
    }
    check(views);
    return id;
  }

  async function expectSuspicious(id: string, badge: string): Promise<void> {
    const card = page.locator(`article.card[data-approval-id="${id}"]`);
    assert.match(await card.getAttribute('class') ?? '', /\bsuspicious\b/);
    await card.locator('.suspicious-note').waitFor();
    await card.locator('button.view-choice[data-view="exact"]').click();
    assert.ok(await card.locator(`pre.code.sql:not([hidden]) .hidden-char[data-char="${badge}"]`).count() > 0, `a ⟨${badge}⟩ badge`);
    await card.locator('button.view-choice[data-view="escaped"]').click();
    const escaped = await card.locator('pre.code.escaped:not([hidden])').textContent() ?? '';
    assert.ok(!HIDDEN_CHARACTER.test(escaped), 'the escaped view holds no hidden character');
    HIDDEN_CHARACTER.lastIndex = 0;
  }

  it('the issue\'s example: a -- comment ends at a lone CR, and OR id > 0 is shown as code', async () => {
    const sql = 'UPDATE orders SET status=1 WHERE id=7 -- ticket OPS-42, one row only\rOR id > 0';
    const id = await expectShownAsLexed(sql, (views) => {
      assert.deepEqual(views.formatted.comments, ['-- ticket OPS-42, one row only']);
      assert.match(views.formatted.code, /OR id > 0$/);
      assert.match(views.exact.text, /-- ticket OPS-42, one row only⟨CR⟩\nOR id > 0$/);
    });
    await expectSuspicious(id, 'CR');
    const note = await page.locator(`article.card[data-approval-id="${id}"] .suspicious-note`).textContent() ?? '';
    assert.match(note, /ends at a lone carriage return/);
    const escaped = await page.locator(`article.card[data-approval-id="${id}"] pre.code.escaped`).textContent();
    assert.equal(escaped, 'UPDATE orders SET status=1 WHERE id=7 -- ticket OPS-42, one row only\\rOR id > 0');
  });

  it('a CR in the middle of a comment line, and CR LF, end the comment the same way', async () => {
    await expectShownAsLexed('UPDATE orders SET status = 1 WHERE id = 8 --one row\r\nOR id > 0', (views) => {
      assert.deepEqual(views.exact.comments, ['--one row']);
      assert.match(views.exact.code, /OR id > 0/);
    });
    await expectShownAsLexed('UPDATE orders SET status = 1 WHERE id = 9 -- a\r-- b\rOR id > 0 -- c', (views) => {
      assert.equal(views.formatted.comments.length, 3);
      assert.match(views.formatted.code, /OR id > 0/);
    });
  });

  it('a U+2028 (or NEL, VT, FF) is no line break to PostgreSQL: what follows stays comment, shown on the same line', async () => {
    for (const [character, badge] of [['\u2028', 'LS'], ['\u2029', 'PS'], ['\u0085', 'NEL'], ['\u000b', 'VT'], ['\u000c', 'FF']] as const) {
      const id = await expectShownAsLexed(`UPDATE orders SET status = 1 WHERE id = 10 -- note${character}OR id > 0`, (views) => {
        assert.equal(views.exact.comments.length, 1);
        assert.match(views.exact.comments[0]!, new RegExp(`^-- note⟨${badge}⟩OR id > 0$`));
        assert.doesNotMatch(views.exact.code, /OR/);
      });
      await expectSuspicious(id, badge);
    }
  });

  it('a bidirectional override cannot reorder what the approver reads: controls are badges, text stays in logical order', async () => {
    const id = await expectShownAsLexed('UPDATE orders SET status = 1 WHERE id = 11 OR \u202Eid\u202C > 0', (views) => {
      assert.match(views.exact.code, /OR ⟨RLO⟩id⟨PDF⟩ > 0$/);
    });
    await expectSuspicious(id, 'RLO');
    const note = await page.locator(`article.card[data-approval-id="${id}"] .suspicious-note`).textContent() ?? '';
    assert.match(note, /bidirectional/);
    const isolate = await expectShownAsLexed('UPDATE orders SET status = 1 WHERE id = 12 -- \u2067 0 < di RO \u2069', (views) => {
      assert.equal(views.exact.comments.length, 1);
    });
    await expectSuspicious(isolate, 'RLI');
  });

  it('zero-width characters inside words (a different column, a keyword that is not one) are shown', async () => {
    for (const [sql, badge] of [
      ['UPDATE orders SET st\u200Batus = 1 WHERE id = 13', 'ZWSP'],
      ['UPDATE orders SET status = 1 WHERE i\u200Dd = 14', 'ZWJ'],
      ['UPDATE orders SET status = 1 WHERE id = 15 AND \uFEFFstatus = 2', 'BOM'],
      ['UPDATE orders SET status = 1 WHERE id = 16 AND note = \'a\u00ADb\'', 'SHY'],
      ['UPDATE orders SET status = 1 WHERE id\u00A0= 17', 'NBSP'],
    ] as const) {
      const id = await expectShownAsLexed(sql, () => {});
      await expectSuspicious(id, badge);
    }
  });

  it('every invisible character is shown, not only the common ones: format controls, variation selectors, fillers, marks on punctuation', async () => {
    for (const [sql, badge] of [
      ['UPDATE orders SET st\u180Eatus = 1 WHERE id = 30', 'U+180E'],
      ['UPDATE orders SET st\u180Batus = 1 WHERE id = 31', 'U+180B'],
      ['UPDATE orders SET status = 1 WHERE id = 32 AND note = \'a\uFEFFb\'', 'BOM'],
      ['UPDATE orders SET status = 1 WHERE id = 33 -- ok\u{E0041}\u{E0042}', 'U+E0041'],
      ['UPDATE orders SET note = \'ok\uFE0F\' WHERE id = 34', 'U+FE0F'],
      ['UPDATE orders SET note = \'ok\u{E0100}\' WHERE id = 35', 'U+E0100'],
      ['UPDATE orders SET note = \'a\u3164b\' WHERE id = 36', 'U+3164'],
      ['UPDATE orders SET status = 1 WHERE id = 37 -- beam\u{1D173}', 'U+1D173'],
      ['UPDATE orders SET note = \'x\u{1BCA1}y\' WHERE id = 38', 'U+1BCA1'],
      ['UPDATE orders SET note = \'x\u2065y\' WHERE id = 39', 'U+2065'],
      ['UPDATE orders SET note = \'a\u2800b\' WHERE id = 40', 'U+2800'],
      ['UPDATE orders SET note = \'\u0338-- x\' WHERE id = 41', 'U+0338'],
      ['UPDATE orders SET note = \'a\'\'\u0335\' WHERE id = 42', 'U+0335'],
    ] as const) {
      const id = await expectShownAsLexed(sql, () => {});
      await expectSuspicious(id, badge);
    }
  });

  it('nested /* */ comments end where PostgreSQL ends them, in both directions', async () => {
    await expectShownAsLexed('UPDATE orders SET status = 1 WHERE id = 18 /* note /* nested */ still comment */ OR id > 0', (views) => {
      assert.deepEqual(views.exact.comments, ['/* note /* nested */ still comment */']);
      assert.match(views.exact.code, /OR id > 0$/);
    });
    await expectShownAsLexed('UPDATE orders SET status = 1 WHERE id = 19 /* a /* b */ OR id > 0 -- */', (views) => {
      assert.equal(views.exact.comments.length, 1, 'the inner */ closes only the inner comment');
      assert.doesNotMatch(views.exact.code, /OR/);
    });
  });

  it('dollar quotes end only at their own tag: a -- inside is text, code after the tag is code', async () => {
    await expectShownAsLexed('UPDATE orders SET note = $q$ -- $q$ WHERE id > 0', (views) => {
      assert.deepEqual(views.exact.comments, []);
      assert.deepEqual(views.exact.strings, ['$q$ -- $q$']);
      assert.match(views.exact.code, /WHERE id > 0$/);
    });
    await expectShownAsLexed('UPDATE orders SET note = $a$ x $A$ -- $b$ y $a$ WHERE id = 20', (views) => {
      assert.deepEqual(views.exact.strings, ['$a$ x $A$ -- $b$ y $a$']);
    });
    await expectShownAsLexed('UPDATE orders SET note = $$ it\'s $$ WHERE id = 25 -- $$ OR id > 0', (views) => {
      assert.deepEqual(views.exact.comments, ['-- $$ OR id > 0']);
      assert.match(views.exact.code, /WHERE id = 25$/);
    });
  });

  it('E\'\' strings take backslash escapes and standard strings do not: the same quote ends differently', async () => {
    await expectShownAsLexed("UPDATE orders SET note = E'it\\' -- ' WHERE id > 0", (views) => {
      assert.deepEqual(views.exact.comments, []);
      assert.match(views.exact.code, /WHERE id > 0$/);
    });
    await expectShownAsLexed("UPDATE orders SET note = 'a\\' WHERE id = 21 -- ' WHERE id = 22", (views) => {
      assert.deepEqual(views.exact.comments, ["-- ' WHERE id = 22"], 'a backslash does not escape in a standard string');
      assert.match(views.exact.code, /WHERE id = 21$/);
    });
    await expectShownAsLexed("UPDATE orders SET note = 'it''s -- not a comment' WHERE id = 22", (views) => {
      assert.deepEqual(views.exact.comments, []);
      assert.deepEqual(views.exact.strings, ["'it''s -- not a comment'"]);
    });
    await expectShownAsLexed("UPDATE orders SET note = U&'\\0027 -- ' WHERE id = 23", (views) => {
      assert.deepEqual(views.exact.comments, []);
    });
    await expectShownAsLexed('UPDATE orders SET "note -- x" = 1 WHERE id = 24', (views) => {
      assert.deepEqual(views.exact.comments, []);
    });
  });

  it('bound parameter values are listed against $1, $2 … with the same hidden-character treatment', async () => {
    const html = await page.evaluate(async (modulePath) => {
      const { actionView } = await import(modulePath);
      const node = actionView(
        { type: 'sql', sql: 'UPDATE orders SET status = $1 WHERE id = $2', parameters: [{ value: '9\u202E', type_oid: 23 }, { value: null }] },
        { action_display: { sql_spans: [[0, 6, 'keyword'], [27, 29, 'parameter'], [41, 43, 'parameter']], hidden: [], suspicious: [] } },
      );
      const items = [...node.querySelectorAll('.parameter')].map((item: { textContent: string }) => item.textContent);
      const warned = node.querySelector('.suspicious-note') !== null;
      return { items, warned };
    }, '/console/js/action-display.js');
    assert.deepEqual(html.items, ['$1 = 9⟨RLO⟩ (type oid 23)', '$2 = NULL']);
    assert.equal(html.warned, true);
  });

  it('shell commands get the same treatment: CR and bidi controls are badges, the card is flagged', async () => {
    const result = await page.evaluate(async (modulePath) => {
      const { actionView, isSuspicious } = await import(modulePath);
      const record = { action: { type: 'shell', command: 'echo safe\rrm -rf /tmp/x \u202Etxt.sh' } };
      const node = actionView(record.action, record);
      return { text: node.querySelector('pre.code:not([hidden])').textContent, suspicious: isSuspicious(record) };
    }, '/console/js/action-display.js');
    assert.equal(result.text, 'echo safe⟨CR⟩\nrm -rf /tmp/x ⟨RLO⟩txt.sh');
    assert.equal(result.suspicious, true);
  });

  it('a policy reason that quotes the command, and the history of the request, show its hidden characters too', async () => {
    const web1 = { type: 'ssh', name: 'web-1', environment: 'production' };
    const { status, body } = await pdp.decide({ subject_token: agentToken, resource: web1, action: { type: 'shell', command: 'tou\u202Ech fdp.exe' } });
    assert.equal(status, 200);
    assert.equal(body.effect, 'approval_required', JSON.stringify(body.reasons));
    const id = (body.approval as { id: string }).id;
    assert.ok((body.reasons as { message: string }[]).some((reason) => reason.message.includes('\u202E')), 'the reason quotes the command name');
    const card = page.locator(`article.card[data-approval-id="${id}"]`);
    await card.waitFor();
    const reasons = await card.locator('.reason-message').allTextContents();
    assert.ok(reasons.some((reason) => reason.includes('running tou⟨RLO⟩ch here')), JSON.stringify(reasons));
    assert.ok(reasons.every((reason) => !HIDDEN_CHARACTER.test(reason)), 'no reason holds a raw hidden character');
    HIDDEN_CHARACTER.lastIndex = 0;

    const bob = await pdp.consoleToken({ sub: 'bob\u200B', roles: ['approver'], kind: 'human' });
    const denied = await fetch(`${pdp.url}/v1/approvals/${id}/votes`, { method: 'POST', headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' }, body: JSON.stringify({ verdict: 'deny', reason: 'no \u202Eexe.tahw' }) });
    assert.equal(denied.status, 200);
    await page.getByRole('tab', { name: 'History' }).click();
    const item = page.locator(`#history .history-item[data-approval-id="${id}"]`);
    await item.waitFor();
    await item.locator('summary').click();
    const text = await item.textContent() ?? '';
    assert.match(text, /bob⟨ZWSP⟩/);
    assert.match(text, /no ⟨RLO⟩exe\.tahw/);
    assert.match(text, /running tou⟨RLO⟩ch here needs approval/);
    assert.ok(!HIDDEN_CHARACTER.test(text), `no raw hidden character in the history: ${JSON.stringify(text)}`);
    HIDDEN_CHARACTER.lastIndex = 0;
    await page.getByRole('tab', { name: 'Queue' }).click();
  });

  it('the page and the PDP agree on which characters are hidden', async () => {
    const every = Array.from({ length: 0x3100 }, (_, code) => String.fromCharCode(code)).concat(['\u{E0001}', '\uFEFF', '\uFFA0', '\uFFF9']);
    const inPage = await page.evaluate(async ([modulePath, characters]) => {
      const { HIDDEN_CHARACTER: pattern, hiddenCharacterName: name } = await import(modulePath as string);
      return (characters as string[]).map((character) => (character.match(pattern) ? name(character) : ''));
    }, ['/console/js/hidden-characters.js', every] as const);
    const here = every.map((character) => (character.match(HIDDEN_CHARACTER) ? hiddenCharacterName(character) : ''));
    assert.deepEqual(inPage, here);
  });
});
