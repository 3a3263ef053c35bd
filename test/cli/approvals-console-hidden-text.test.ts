// The terminal console shows what the server will parse (issue class 7), in a real terminal
// (tmux): a -- comment ends where PostgreSQL ends it (at a CR too), code after it is styled as
// code, hidden characters are ⟨NAME⟩ badges, the request is flagged as suspicious, and the exact
// text is one key away (x: escaped). A shortened long command cannot be approved until loaded.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { agentToken, CLI, requestApproval } from './support/approvals-cli.ts';
import { TmuxSession } from './support/tmux-session.ts';

const run = promisify(execFile);
const DIM = '2';
const CYAN = '36';

describe('portcullis approvals on a terminal shows SQL as PostgreSQL lexes it', () => {
  let pdp: TestPdp;
  let terminal: TmuxSession | undefined;

  before(async () => {
    await run('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'install', 'tmux']);
    pdp = await startTestPdp({ PORTCULLIS_APPROVAL_LISTED_ACTION_CHARS: '300' });
  });
  after(async () => {
    await terminal?.close();
    await pdp?.close();
  });

  /** The styles in force on the run that holds `text`, searched from the bottom (the details panel, not the queue rows). */
  async function stylesOf(text: string): Promise<ReadonlySet<string>> {
    for (const row of (await terminal!.styledScreen()).reverse()) {
      for (const run of row) if (run.text.includes(text)) return run.attributes;
    }
    assert.fail(`no run of the screen holds ${JSON.stringify(text)}:\n${await terminal!.screen()}`);
  }

  it('the issue\'s example and its variants: comment and code where the server has them, badges, suspicious, escaped', async () => {
    const agent = await agentToken(pdp);
    const example = await requestApproval(pdp, agent, 'UPDATE orders SET status=1 WHERE id=7 -- ticket OPS-42, one row only\rOR id > 0');
    terminal = await TmuxSession.start(['env', '-u', 'PORTCULLIS_TOKEN', `PORTCULLIS_STATE_DIR=${pdp.stateDir}`, process.execPath, CLI, 'approvals', '--url', pdp.url, '--as', 'alice'], process.env, 180, 45);
    let screen = await terminal.waitFor((text) => text.includes(example.id) && text.includes('● live'), 'the request');
    assert.match(screen, /-- ticket OPS-42, one row only⟨CR⟩\s*\n.*OR id > 0/);
    assert.match(screen, /SUSPICIOUS/);
    assert.match(screen, /ends at a lone carriage return/);
    assert.ok((await stylesOf('ticket OPS-42, one row only')).has(DIM), 'the comment is dim');
    const code = await stylesOf(' id > 0');
    assert.ok(code.has(CYAN) && !code.has(DIM), 'OR id > 0 is code');
    const keyword = await stylesOf('OR');
    assert.ok(keyword.has(CYAN) && !keyword.has(DIM), 'OR is a keyword, not comment');

    await terminal.keys('x');
    // The details' label, not the key legend ("x exact/escaped"), which is always on screen.
    screen = await terminal.waitFor((text) => /^escaped /m.test(text), 'the escaped view');
    assert.match(screen, /-- ticket OPS-42, one row only\\rOR id > 0/);
    await terminal.keys('x');

    // A U+2028 is no line break to PostgreSQL: the comment runs on, on one line, badge shown.
    const separator = await requestApproval(pdp, agent, 'UPDATE orders SET status = 1 WHERE id = 8 -- note\u2028OR id > 0');
    await terminal.keys('Down');
    screen = await terminal.waitFor((text) => new RegExp(`id\\s+${separator.id}`).test(text), 'the U+2028 request');
    assert.match(screen, /-- note⟨LS⟩OR id > 0/);
    assert.ok((await stylesOf('note')).has(DIM), 'all of it is comment');

    // A bidi override is a badge, the text stays in logical order.
    const bidi = await requestApproval(pdp, agent, 'UPDATE orders SET status = 1 WHERE id = 9 OR \u202Eid\u202C > 0');
    await terminal.keys('Down');
    screen = await terminal.waitFor((text) => new RegExp(`id\\s+${bidi.id}`).test(text), 'the bidi request');
    assert.match(screen, /OR ⟨RLO⟩id⟨PDF⟩ > 0/);
    assert.doesNotMatch(screen, /[\u202A-\u202E\u2066-\u2069]/);

    // Dollar quotes and standard strings end where PostgreSQL ends them.
    const dollar = await requestApproval(pdp, agent, "UPDATE orders SET note = $q$ -- $q$ WHERE id = 10 -- ' x");
    await terminal.keys('Down');
    await terminal.waitFor((text) => new RegExp(`id\\s+${dollar.id}`).test(text), 'the dollar-quote request');
    const where = await stylesOf('WHERE id = 10');
    assert.ok(!where.has(DIM), 'WHERE after the closing tag is code');
    assert.ok((await stylesOf("-- ' x")).has(DIM));
  });

  it('a shortened long command cannot be approved until the whole of it is loaded (f)', async () => {
    const agent = await agentToken(pdp, 'agent-long');
    const long = await requestApproval(pdp, agent, `UPDATE orders SET note = '${'y'.repeat(2000)}' WHERE id = 11 -- end\rOR id > 0`);
    for (let step = 0; step < 6; step += 1) await terminal!.keys('Down');
    let screen = await terminal!.waitFor((text) => new RegExp(`id\\s+${long.id}`).test(text), 'the long request');
    assert.match(screen, /only the first \d+ of \d+ characters are shown/);
    await terminal!.keys('a');
    await terminal!.waitFor((text) => text.includes('press f to load all of it before approving'), 'the refusal to approve');
    await terminal!.keys('f');
    screen = await terminal!.waitFor((text) => text.includes('the whole command of') && !text.includes('only the first'), 'the whole command');
    await terminal!.keys('a');
    await terminal!.waitFor((text) => text.includes('APPROVE') && text.includes('reason (optional)'), 'the approve prompt');
    await terminal!.keys('Escape');
  });
});
