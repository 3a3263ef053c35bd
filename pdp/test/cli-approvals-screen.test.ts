// The approvals console's screen and queue model, without a terminal: what an approver reads
// must be exactly what the agent asked for, with nothing in it able to drive the terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApprovalRecordView } from '../src/approvals/approval-view.ts';
import { ApprovalQueue } from '../src/cli/approvals/approval-queue.ts';
import { pendingTable } from '../src/cli/approvals/approval-listing.ts';
import { renderScreen, type ConsoleView } from '../src/cli/approvals/console-screen.ts';

const NOW = Date.parse('2026-11-26T10:00:00Z');

function record(overrides: Partial<ApprovalRecordView> = {}): ApprovalRecordView {
  return {
    id: '0b6f1c2a-0000-4000-8000-000000000001',
    status: 'pending',
    requester: { sub: 'agent-ops', iss: 'portcullis-dev', kind: 'agent' },
    resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
    decision_id: '00000000-0000-4000-8000-000000000009',
    action: { type: 'sql', sql: 'DELETE FROM orders WHERE id = 7' },
    action_summary: 'DELETE FROM orders WHERE id = 7',
    reasons: [{ code: 'sql-write-requires-approval', message: 'SQL that changes data in this environment needs approval' }],
    quorum: 2,
    approver_roles: ['approver'],
    decisions: [{ approver: 'bob', verdict: 'approve', reason: 'ticket 42', at: '2026-11-26T09:59:00Z' }],
    created_at: '2026-11-26T09:58:00Z',
    expires_at: '2026-11-26T10:14:32Z',
    version: 2,
    ...overrides,
  };
}

function view(pending: ApprovalRecordView[], overrides: Partial<ConsoleView> = {}): ConsoleView {
  return {
    url: 'http://127.0.0.1:8181',
    connection: { kind: 'live', welcome: { type: 'welcome', protocol: 1, principal: { sub: 'alice', iss: 'portcullis-dev', roles: ['approver'] }, can_watch: true, heartbeat_ms: 15000 } },
    principal: { sub: 'alice', roles: ['approver'] },
    mode: 'queue',
    pending,
    selected: 0,
    now: NOW,
    ...overrides,
  };
}

describe('approvals console screen', () => {
  it('shows who, what, where, why, votes and the time left, in exactly the terminal\'s size', () => {
    const lines = renderScreen(view([record()]), 160, 30, false);
    assert.equal(lines.length, 30);
    for (const line of lines) assert.ok([...line].length <= 160, `wider than the terminal: ${line}`);
    const screen = lines.join('\n');
    assert.match(screen, /alice \(approver\)/);
    assert.match(screen, /▶ 14:32\s+orders-db\s+PRODUCTION\s+agent-ops \(agent\)\s+1\/2\s+sql-write-requires-approval\s+DELETE FROM orders WHERE id = 7/);
    assert.match(screen, /votes\s+1 of 2 approvals .* expires 14:32/);
    assert.match(screen, /✓ bob approved \("ticket 42"\)/);
    assert.match(screen, /what\s+DELETE FROM orders WHERE id = 7/);
  });

  it('shows escape sequences and other controls in a request as text, never sends them to the terminal', () => {
    const hostile = record({
      requester: { sub: 'agent\x1b]0;owned\x07', kind: 'agent' },
      resource: { type: 'ssh', name: 'web-1\x1b[2J', environment: 'production' },
      action: { type: 'shell', command: 'echo ok\x1b[1A\x1b[2K\u009b31mrm -rf /\nsecond line' },
      action_summary: 'echo ok\x1b[1A\x1b[2K\u009b31mrm -rf / second line',
      reasons: [{ code: 'shell-command-requires-approval', message: 'needs approval\r\x1b[32mALLOWED' }],
      decisions: [],
    });
    const screen = renderScreen(view([hostile]), 160, 30, false).join('\n');
    assert.doesNotMatch(screen, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'a control character reached the screen');
    assert.match(screen, /echo ok⟨ESC⟩\[1A⟨ESC⟩\[2K⟨U\+009B⟩31mrm -rf \//);
    assert.match(screen, /second line/);
    const coloured = renderScreen(view([hostile]), 160, 30, true).join('\n');
    // With colour on, the only escapes are the console's own SGR sequences.
    assert.equal(coloured.replace(/\x1b\[[\d;]*m/g, '').match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/), null);
    assert.doesNotMatch(pendingTable([hostile], NOW), /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('fits a narrow terminal by dropping the reason column from the rows, keeping the command', () => {
    const lines = renderScreen(view([record()]), 110, 24, false);
    assert.equal(lines.length, 24);
    for (const line of lines) assert.ok([...line].length <= 110, `wider than the terminal: ${line}`);
    assert.match(lines.join('\n'), /▶ 14:32\s+orders-db\s+PRODUCTION\s+agent-ops \(agent\)\s+1\/2\s+DELETE FROM orders WHERE id = 7/);
    assert.match(lines.join('\n'), /why\s+sql-write-requires-approval SQL that changes data/);
  });

  it('keeps the selected row in sight in a long queue and says when the PDP is away', () => {
    const many = Array.from({ length: 40 }, (_, index) => record({ id: `0b6f1c2a-0000-4000-8000-${String(index).padStart(12, '0')}`, action: { type: 'sql', sql: `DELETE FROM orders WHERE id = ${index}` }, action_summary: `DELETE FROM orders WHERE id = ${index}` }));
    const screen = renderScreen(view(many, { selected: 35, connection: { kind: 'reconnecting', attempt: 3, delayMs: 1000, reason: 'connect ECONNREFUSED' } }), 160, 30, false).join('\n');
    assert.match(screen, /▶ .*DELETE FROM orders WHERE id = 35\n/);
    assert.match(screen, /what\s+DELETE FROM orders WHERE id = 35\n/);
    assert.match(screen, /reconnecting \(attempt 3, 1\.0 s\)/);
    assert.match(screen, /40 pending/);
  });

  it('prompts for a reason on deny, saying it is required', () => {
    const screen = renderScreen(view([record()], { prompt: { verdict: 'deny', approval: record(), text: 'not now' } }), 120, 20, false).join('\n');
    assert.match(screen, /DENY\s+0b6f1c2a — reason \(required\): not now█/);
  });
});

describe('approvals console queue', () => {
  it('keeps the highest version of each record and lets no resolved record come back', () => {
    const queue = new ApprovalQueue();
    queue.reset([record({ version: 1, decisions: [] })]);
    queue.apply(record({ version: 2 }));
    queue.apply(record({ version: 1, decisions: [] }));
    assert.equal(queue.get(record().id)?.version, 2);
    queue.apply(record({ version: 3, status: 'approved' }));
    queue.apply(record({ version: 2 }));
    assert.equal(queue.size, 0);
  });

  it('orders the queue soonest expiry first', () => {
    const queue = new ApprovalQueue();
    queue.reset([
      record({ id: 'b0000000-0000-4000-8000-000000000000', expires_at: '2026-11-26T10:30:00Z' }),
      record({ id: 'a0000000-0000-4000-8000-000000000000', expires_at: '2026-11-26T10:05:00Z' }),
    ]);
    assert.deepEqual(queue.pending().map((entry) => entry.id[0]), ['a', 'b']);
  });
});
