// A tool call held for approval through the MCP gateway, with the official SDK client as the
// agent and the reference filesystem server behind: the client that gave a progress token is told
// of the hold in progress notifications and gets the real result once an approver (on the
// approvals WebSocket) approves what the card showed; a client without one is answered with a
// tool error naming the approval, and the same call again once approved runs once; other
// arguments need their own approval; a held call whose client went away never runs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { openApprovalSocket, type ApprovalSocket } from '../support/approval-socket-client.ts';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, stdioServerEntry, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareFilesystemServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { sessionEventBodies } from '../support/session-records.ts';
import { callsTestPolicyBundle } from './approvals-test-policy.ts';
import { callText as textOf } from './tool-results.ts';

const approvalIdIn = (text: string): string | undefined => /approval ([0-9a-f-]{36})/.exec(text)?.[1];

async function vote(gateway: McpGateway, approvalId: string, verdict: 'approve' | 'deny', reason: string): Promise<void> {
  const approver = await gateway.pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  const response = await fetch(`${gateway.pdp.url}/v1/approvals/${approvalId}/votes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict, reason }),
  });
  assert.equal(response.status, 200, await response.text());
}

async function approvalStatus(gateway: McpGateway, approvalId: string): Promise<string> {
  const response = await fetch(`${gateway.pdp.url}/v1/approvals/${approvalId}`, { headers: { authorization: `Bearer ${gateway.pdp.pepToken}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { approval: { status: string } }).approval.status;
}

describe('a tool call held for approval while its client waits with a progress token', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let root: string;
  let writer: string;
  let approver: ApprovalSocket;

  before(async () => {
    files = prepareFilesystemServer();
    root = files.workspace;
    gateway = await startMcpGateway({
      servers: [stdioServerEntry('files', files.launch)],
      pdpEnv: { PORTCULLIS_BUNDLE_FILE: callsTestPolicyBundle(), PORTCULLIS_PUBLIC_URL: 'https://portcullis.example.test' },
      // A short keep-alive, so a suite sees the hold's notices repeat without waiting long for them.
      pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '120', PORTCULLIS_PEP_MCP_PROGRESS_KEEPALIVE_MS: '100' },
    });
    writer = await gateway.token('agent-writer', ['writer']);
    approver = await openApprovalSocket(gateway.pdp.url, { token: await gateway.pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' }) });
    await approver.next((message) => message.type === 'welcome');
    approver.send({ type: 'subscribe' });
    await approver.next((message) => message.type === 'snapshot');
  });
  after(async () => {
    await approver?.close();
    await gateway?.close();
    files?.remove();
  });

  it('tells the client of the hold, shows the approver the arguments, and returns the real result once approved', async () => {
    const client = await gateway.connect('files', writer);
    const target = join(root, 'held.txt');
    const progress: Progress[] = [];
    const call = client.callTool({ name: 'write_file', arguments: { path: target, content: 'approved content' } }, undefined, {
      onprogress: (update) => progress.push(update),
      resetTimeoutOnProgress: true,
      timeout: 60_000,
    });

    const requested = await approver.next((message) => message.type === 'event' && message.event === 'requested', 30_000);
    const approval = requested.approval as { id: string; action_summary: string; action: { type: string; method: string; tool: string; arguments: unknown } };
    assert.equal(approval.action.type, 'mcp');
    assert.equal(approval.action.method, 'tools/call');
    assert.equal(approval.action.tool, 'write_file');
    assert.deepEqual(approval.action.arguments, { path: target, content: 'approved content' }, 'the card shows the arguments exactly as they will be sent');
    assert.equal(approval.action_summary, `write_file ${JSON.stringify({ path: target, content: 'approved content' })}`, "the queue's line names the tool and its arguments");

    await eventually('the client is told which approval its call waits for', () => progress.some((update) => update.message?.includes(approval.id)));
    assert.equal(existsSync(target), false, 'nothing reached the server while held');

    approver.send({ type: 'vote', request_id: 'v1', approval_id: approval.id, verdict: 'approve', reason: 'ticket 14' });
    assert.equal((await approver.next((message) => message.type === 'vote_result' && message.request_id === 'v1')).ok, true);
    const result = await call;
    assert.notEqual(result.isError, true, textOf(result));
    assert.match(textOf(result), /Successfully wrote/);
    assert.equal(readFileSync(target, 'utf8'), 'approved content');
    assert.ok(progress.length >= 1);
    progress.forEach((update, index) => index > 0 && assert.ok(update.progress > progress[index - 1]!.progress, 'progress rises'));
    assert.equal(await approvalStatus(gateway, approval.id), 'executed');
    await gateway.disconnect(client);
  });

  it('keeps sending progress while the call is held, and none once it is answered', async () => {
    // Over stdio every notification the gateway sends reaches the client: a progress notice after
    // the answer would show as the SDK's error for an unknown progress token.
    const { client } = await gateway.connectStdio('files', writer);
    const clientErrors: Error[] = [];
    client.onerror = (error) => clientErrors.push(error);
    const target = join(root, 'kept-alive.txt');
    const progress: Progress[] = [];
    const call = client.callTool({ name: 'write_file', arguments: { path: target, content: 'kept alive' } }, undefined, { onprogress: (update) => progress.push(update), resetTimeoutOnProgress: true, timeout: 60_000 });
    const approvalId = await eventually('the client is told of the hold', () => progress.map((update) => approvalIdIn(update.message ?? '')).find(Boolean));
    await eventually('the hold is told again and again while it lasts', () => progress.length >= 4);
    assert.ok(progress.every((update) => update.message?.includes(approvalId)), 'each keep-alive repeats the notice naming the approval');

    await vote(gateway, approvalId, 'approve', 'kept alive');
    const result = await call;
    assert.notEqual(result.isError, true, textOf(result));
    assert.equal(readFileSync(target, 'utf8'), 'kept alive');

    // A second held call's keep-alives prove time passed: the first call's would have come meanwhile.
    const secondProgress: Progress[] = [];
    const second = client.callTool({ name: 'write_file', arguments: { path: join(root, 'second.txt'), content: 'second' } }, undefined, { onprogress: (update) => secondProgress.push(update), resetTimeoutOnProgress: true, timeout: 60_000 });
    const secondApproval = await eventually('the second call is held', () => secondProgress.map((update) => approvalIdIn(update.message ?? '')).find(Boolean));
    await eventually('several keep-alive intervals pass', () => secondProgress.length >= 4);
    assert.deepEqual(clientErrors.map((error) => error.message), [], 'no progress came for the call already answered');
    await vote(gateway, secondApproval, 'deny', 'only the first');
    assert.equal((await second).isError, true);
    await client.close();
  });

  it('answers a call without a progress token at once with the approval to ask for, though the hold could be long', async () => {
    const client = await gateway.connect('files', writer);
    const target = join(root, 'no-token.txt');
    // No progress token: the client cannot be kept alive, so the 120 s hold is not waited out (its own timeout would run out first).
    const held = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'no token' } }, undefined, { timeout: 30_000 });
    assert.equal(held.isError, true);
    const text = textOf(held);
    const approvalId = approvalIdIn(text);
    assert.ok(approvalId, text);
    assert.match(text, new RegExp(`approve at https://portcullis\\.example\\.test/console/#/approvals/${approvalId}`), 'the console link');
    assert.match(text, /call the same tool with the same arguments again once approved/);
    assert.equal(existsSync(target), false);
    assert.equal(await approvalStatus(gateway, approvalId), 'pending');
    await gateway.disconnect(client);
  });

  it("answers the approver's refusal as a tool error, and the call never runs", async () => {
    const client = await gateway.connect('files', writer);
    const target = join(root, 'refused.txt');
    const progress: Progress[] = [];
    const call = client.callTool({ name: 'write_file', arguments: { path: target, content: 'not wanted' } }, undefined, { onprogress: (update) => progress.push(update), resetTimeoutOnProgress: true, timeout: 60_000 });
    const approvalId = await eventually('the client is told of the hold', () => progress.map((update) => approvalIdIn(update.message ?? '')).find(Boolean));
    await vote(gateway, approvalId, 'deny', 'not during the freeze');
    const result = await call;
    assert.equal(result.isError, true);
    assert.match(textOf(result), /approval-denied/);
    assert.match(textOf(result), /not during the freeze/);
    assert.equal(existsSync(target), false);
    await gateway.disconnect(client);
  });

  it('never runs a held call whose client went away; the approval stays for the same call made again', async () => {
    const client = await gateway.connect('files', writer);
    const target = join(root, 'abandoned.txt');
    const args = { path: target, content: 'left behind' };
    const progress: Progress[] = [];
    const call = client.callTool({ name: 'write_file', arguments: args }, undefined, { onprogress: (update) => progress.push(update), resetTimeoutOnProgress: true, timeout: 60_000 });
    call.catch(() => undefined);
    const approvalId = await eventually('the client is told of the hold', () => progress.map((update) => approvalIdIn(update.message ?? '')).find(Boolean));

    const endedBefore = new Set(sessionEventBodies(await gateway.pdp.auditEvents('sessions')).filter((body) => body.event === 'session.end').map((body) => body.session.id));
    await gateway.disconnect(client);
    await eventually('the gateway ended the session of the client that went away', async () =>
      sessionEventBodies(await gateway.pdp.auditEvents('sessions')).some((body) => body.event === 'session.end' && !endedBefore.has(body.session.id)),
    );

    await vote(gateway, approvalId, 'approve', 'approved after the client left');
    assert.equal(await approvalStatus(gateway, approvalId), 'approved', 'nobody used the approval');
    assert.equal(existsSync(target), false);

    // The approval is still there for exactly this call: made again (no progress token), it runs once.
    const again = await gateway.connect('files', writer);
    const result = await again.callTool({ name: 'write_file', arguments: args }, undefined, { timeout: 30_000 });
    assert.notEqual(result.isError, true, textOf(result));
    assert.equal(readFileSync(target, 'utf8'), 'left behind');
    assert.equal(await approvalStatus(gateway, approvalId), 'executed');
    await gateway.disconnect(again);
  });
});

describe('a tool call held for approval whose client cannot wait (no progress token, a short hold)', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let root: string;
  let writer: string;

  before(async () => {
    files = prepareFilesystemServer();
    root = files.workspace;
    gateway = await startMcpGateway({
      servers: [stdioServerEntry('files', files.launch)],
      pdpEnv: { PORTCULLIS_BUNDLE_FILE: callsTestPolicyBundle() },
      pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '1' },
    });
    writer = await gateway.token('agent-writer', ['writer']);
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  it('answers a tool error naming the approval; the same call once approved runs once, and a third is held anew', async () => {
    const client = await gateway.connect('files', writer);
    const target = join(root, 'report.txt');
    const args = { path: target, content: 'quarterly figures' };

    const held = await client.callTool({ name: 'write_file', arguments: args });
    assert.equal(held.isError, true);
    const approvalId = approvalIdIn(textOf(held));
    assert.ok(approvalId, textOf(held));
    assert.match(textOf(held), /again/i, 'the agent is told to make the call again once approved');
    assert.equal(existsSync(target), false);

    await vote(gateway, approvalId, 'approve', 'ticket 15');
    const ran = await client.callTool({ name: 'write_file', arguments: args });
    assert.notEqual(ran.isError, true, textOf(ran));
    assert.equal(readFileSync(target, 'utf8'), 'quarterly figures');
    assert.equal(await approvalStatus(gateway, approvalId), 'executed');

    // One approval, one execution: the same call once more is held for a new approval, and does not run.
    rmSync(target);
    const third = await client.callTool({ name: 'write_file', arguments: args });
    assert.equal(third.isError, true);
    const thirdApproval = approvalIdIn(textOf(third));
    assert.ok(thirdApproval && thirdApproval !== approvalId, textOf(third));
    assert.equal(existsSync(target), false);
    await gateway.disconnect(client);
  });

  it('needs a new approval for the same tool with other arguments', async () => {
    const client = await gateway.connect('files', writer);
    const target = join(root, 'config.txt');
    const approved = { path: target, content: 'mode=safe' };
    const first = await client.callTool({ name: 'write_file', arguments: approved });
    const approvalId = approvalIdIn(textOf(first));
    assert.ok(approvalId, textOf(first));
    await vote(gateway, approvalId, 'approve', 'safe mode only');

    const changed = await client.callTool({ name: 'write_file', arguments: { path: target, content: 'mode=unsafe' } });
    assert.equal(changed.isError, true, 'other arguments are not what the approver saw');
    const changedApproval = approvalIdIn(textOf(changed));
    assert.ok(changedApproval && changedApproval !== approvalId, textOf(changed));
    assert.equal(existsSync(target), false);
    assert.equal(await approvalStatus(gateway, approvalId), 'approved', 'the approval waits for the call it was given for');

    const ran = await client.callTool({ name: 'write_file', arguments: approved });
    assert.notEqual(ran.isError, true, textOf(ran));
    assert.equal(readFileSync(target, 'utf8'), 'mode=safe');
    await gateway.disconnect(client);
  });
});
