// The interactive `portcullis approvals` console in a real terminal (tmux): an approver sees the
// request arrive, selects it, approves it with the keyboard, and the waiting PEP is released.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { freePort } from '../support/redis-server.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { agentToken, CLI, requestApproval, waitForApproval } from './support/approvals-cli.ts';
import { TmuxSession } from './support/tmux-session.ts';
import { eventually } from '../support/eventually.ts';

const run = promisify(execFile);

describe('portcullis approvals on a terminal', () => {
  let pdp: TestPdp | undefined;
  let terminal: TmuxSession | undefined;
  let port: number;
  let stateDir: string;

  before(async () => {
    await run('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'install', 'tmux']);
    port = await freePort();
    pdp = await startTestPdp({ PORTCULLIS_PORT: String(port) });
    stateDir = pdp.stateDir;
  });
  after(async () => {
    await terminal?.close();
    await pdp?.close();
  });

  it('shows the live queue, approves and denies with the keyboard, shows history, survives a PDP restart, quits', async () => {
    const agent = await agentToken(pdp!);
    const first = await requestApproval(pdp!, agent, 'DELETE FROM orders WHERE id = 301');
    const url = pdp!.url;
    terminal = await TmuxSession.start(['env', '-u', 'PORTCULLIS_TOKEN', `PORTCULLIS_STATE_DIR=${stateDir}`, process.execPath, CLI, 'approvals', '--url', url, '--as', 'alice'], process.env);

    // Who, what, where (production stands out), why, votes, expiry.
    let screen = await terminal.waitFor((text) => text.includes('DELETE FROM orders WHERE id = 301') && text.includes('● live'), 'the pending request');
    assert.match(screen, /alice \(approver\)/);
    assert.match(screen, /1 pending/);
    assert.match(screen, /orders-db\s+PRODUCTION/);
    assert.match(screen, /agent-ops \(agent\)/);
    assert.match(screen, /sql-write-requires-approval/);
    assert.match(screen, /0 of 1 approval/);
    assert.match(screen, /expires \d\d:\d\d/);

    // A second request arrives live; the selection stays where it was.
    const second = await requestApproval(pdp!, agent, 'UPDATE orders SET status = \'void\' WHERE id = 302');
    await terminal.waitFor((text) => text.includes('2 pending'), 'the second request arriving');
    screen = await terminal.screen();
    assert.match(screen, new RegExp(`id\\s+${first.id}`));
    await terminal.keys('Down');
    await terminal.waitFor((text) => new RegExp(`id\\s+${second.id}`).test(text), 'the second request selected');
    await terminal.keys('Up');
    await terminal.waitFor((text) => new RegExp(`id\\s+${first.id}`).test(text), 'the first request selected again');

    // a, an optional reason, Enter: the PEP's long-poll is released with the vote.
    const waiter = waitForApproval(pdp!, first.id);
    await terminal.keys('a');
    await terminal.waitFor((text) => text.includes('APPROVE') && text.includes('reason (optional)'), 'the approve prompt');
    await terminal.type('checked the ticket');
    await terminal.keys('Enter');
    const released = await waiter;
    assert.equal(released.status, 'approved');
    assert.deepEqual(released.decisions.map(({ approver, reason }) => ({ approver, reason })), [{ approver: 'alice', reason: 'checked the ticket' }]);
    await terminal.waitFor((text) => text.includes(`approved ${first.id.slice(0, 8)}: 1 of 1 approvals`) && text.includes('1 pending'), 'the vote outcome');

    // d needs a reason: Enter alone is refused in place; with one, it denies.
    const denied = waitForApproval(pdp!, second.id);
    await terminal.keys('d');
    await terminal.waitFor((text) => text.includes('reason (required)'), 'the deny prompt');
    await terminal.keys('Enter');
    await terminal.waitFor((text) => text.includes('a deny needs a reason'), 'the refusal of an empty reason');
    await terminal.type('not during the freeze');
    await terminal.keys('Enter');
    assert.equal((await denied).status, 'denied');
    await terminal.waitFor((text) => text.includes('nothing is waiting for approval'), 'an empty queue');

    await terminal.keys('h');
    screen = await terminal.waitFor((text) => text.includes('STATUS') && !text.includes('loading…'), 'the history');
    assert.match(screen, /^\s+approved\s.*orders-db \(production\)\s+agent-ops \(agent\)\s+alice\s/m);
    assert.match(screen, /^\s+denied\s.*orders-db \(production\)\s+agent-ops \(agent\)\s+alice\s/m);
    await terminal.keys('h');
    await terminal.waitFor((text) => text.includes('nothing is waiting for approval'), 'the queue again');

    // The PDP restarts: the console says it is reconnecting, then is live again by itself.
    await pdp!.close({ keepState: true });
    pdp = undefined;
    await terminal.waitFor((text) => text.includes('reconnecting'), 'the reconnecting state');
    pdp = await startTestPdp({ PORTCULLIS_PORT: String(port), PORTCULLIS_STATE_DIR: stateDir });
    await terminal.waitFor((text) => text.includes('● live'), 'the console live again');
    const third = await requestApproval(pdp, await agentToken(pdp), 'DELETE FROM orders WHERE id = 303');
    await terminal.waitFor((text) => text.includes('DELETE FROM orders WHERE id = 303') && text.includes(third.id), 'a request after the restart');

    await terminal.keys('q');
    const quitting = terminal;
    await eventually('q quits the console', () => quitting.exitStatus() !== undefined, { timeoutMs: 20_000, intervalMs: 100 });
    const status = terminal.exitStatus();
    assert.equal(status, 0, `q quits cleanly; the terminal:\n${await terminal.screen()}`);
  });
});
