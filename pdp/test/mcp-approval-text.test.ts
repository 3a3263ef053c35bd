import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadModule } from 'libpg-query';
import { actionDisplay } from '../src/approvals/action-display.ts';
import { approvalRecordView, type ApprovalRecordView } from '../src/approvals/approval-view.ts';
import type { ApprovalRecord } from '../src/approvals/approval-store.ts';
import { actionLines } from '../src/cli/approvals/action-lines.ts';
import { actionText } from '../src/cli/approvals/approval-text.ts';

const SQL = "UPDATE orders SET status = 'shipped' WHERE id = $1 -- ticket 7";

function record(action: Record<string, unknown>, kinds: Record<string, 'sql' | 'shell' | 'path'>): ApprovalRecord {
  return {
    id: '0b7e4c7e-9a51-4f0e-9a8e-0c6f0d8f6a11',
    status: 'pending',
    requester: { sub: 'agent-7', kind: 'agent' },
    resource: { type: 'mcp', name: 'mcp-db-prod', environment: 'production' },
    decision_id: 'd-1',
    action,
    action_summary: 'execute',
    action_display: actionDisplay(action, kinds),
    binding: 'b',
    reasons: [],
    quorum: 1,
    approver_roles: ['approver'],
    decisions: [],
    created_at: '2026-12-07T01:00:00.000Z',
    expires_at: '2026-12-07T01:15:00.000Z',
  } as unknown as ApprovalRecord;
}

const call = { type: 'mcp', method: 'tools/call', tool: 'execute', arguments: { sql: SQL, command: 'ls -l /srv', params: [7] } };

describe('an MCP tool call as approvers read it', () => {
  // The PDP loads PostgreSQL's scanner at start (the SQL analyzer); the spans come from it.
  before(() => loadModule());

  it('keeps the lexer spans of each SQL argument, and the kind of every analysed argument', () => {
    const display = actionDisplay(call, { sql: 'sql', command: 'shell' });
    const spans = display.mcp_arguments?.sql?.sql_spans ?? [];
    assert.ok(spans.some(([start, end, kind]) => kind === 'string' && SQL.slice(start, end) === "'shipped'"));
    assert.ok(spans.some(([start, end, kind]) => kind === 'comment' && SQL.slice(start, end) === '-- ticket 7'));
    assert.deepEqual(display.mcp_arguments?.command, { kind: 'shell' });
    assert.equal(display.mcp_arguments?.params, undefined, 'an argument no data names shows as JSON');
    assert.deepEqual(actionDisplay(call).mcp_arguments, undefined);
  });

  it('flags a SQL argument whose -- comment ends at a lone CR, as a SQL statement is', () => {
    const display = actionDisplay({ ...call, arguments: { sql: 'DELETE FROM t WHERE id = 7 -- only\rOR true' } }, { sql: 'sql' });
    assert.ok(display.suspicious.some((reason) => /lone carriage return/.test(reason)), JSON.stringify(display.suspicious));
  });

  it('writes the tool and each argument under its name in the terminal: SQL and commands as sent, the rest as JSON', () => {
    const view = approvalRecordView(record(call, { sql: 'sql', command: 'shell' }));
    assert.equal(actionText(view), `tools/call execute\nsql:\n${SQL}\ncommand:\nls -l /srv\nparams:\n[\n  7\n]`);
    const segments = actionLines(view, 200).flat();
    const literal = segments.find((segment) => segment.text === "'shipped'");
    assert.deepEqual(literal?.styles, ['yellow'], 'the SQL literal is coloured as the lexer reads it');
    assert.ok(segments.some((segment) => segment.text === '-- ticket 7' && segment.styles?.includes('dim')), 'the comment is dim');
  });

  it('clips an SQL argument\'s spans with the argument when a list shortens the action', () => {
    const view: ApprovalRecordView = approvalRecordView(record(call, { sql: 'sql' }), { listedActionChars: 20 });
    const shown = (view.action.arguments as { sql: string }).sql;
    assert.equal(shown.length, 20 - 'tools/call'.length - 'execute'.length);
    for (const [, end] of view.action_display?.mcp_arguments?.sql?.sql_spans ?? []) assert.ok(end <= shown.length);
  });

  it('names the server asking the agent, and its params', () => {
    const view = approvalRecordView(record({ type: 'mcp', method: 'sampling/createMessage', direction: 'to_client', params: { maxTokens: 5 } }, {}));
    assert.equal(actionText(view), 'sampling/createMessage (the server asks the agent)\nparams:\n{\n  "maxTokens": 5\n}');
  });
});
