// What the session record holds of calls through the MCP gateway, with the official SDK client as
// the agent and the reference filesystem server behind, under the calls test policy
// (approvals-test-policy.ts): each call an entry with the tool, its arguments with secrets
// redacted, its decision, duration, bytes and masked count; a denied call no entry; the sessions
// CLI (what the console's Sessions view reads) shows the session and its calls.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, stdioServerEntry, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareDatabaseServer, prepareFilesystemServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres-server.ts';
import { sessionEventBodies, sessionStatementBodies, type SessionStatementBody } from '../support/session-records.ts';
import { sessionsCli } from '../support/sessions-cli.ts';
import { callsTestPolicyBundle } from './approvals-test-policy.ts';

const API_KEY = 'sk-live-4f9a8b7c6d5e';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWNvcmRzIn0.c2lnbmF0dXJlLXJlY29yZHM';

describe('session records of calls through the MCP gateway', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let root: string;

  before(async () => {
    files = prepareFilesystemServer();
    root = files.workspace;
    writeFileSync(join(root, 'customers.json'), `${JSON.stringify({ rows: [{ id: 1, email: 'ann.lee@example.com', card: '4111 1111 1111 1111' }] })}\n`);
    writeFileSync(join(root, 'readme.md'), 'nothing personal here\n');
    gateway = await startMcpGateway({ servers: [stdioServerEntry('files', files.launch)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: callsTestPolicyBundle() } });
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  const statements = async (): Promise<SessionStatementBody[]> => sessionStatementBodies(await gateway.pdp.auditEvents('sessions'));

  it('records each call with its tool, redacted arguments, decision, duration, bytes and masked count', async () => {
    const client = await gateway.connect('files', await gateway.token('agent-records', ['reader']));
    const readme = join(root, 'readme.md');
    // The filesystem server ignores arguments it does not know: these stand for a tool's credentials.
    const plain = await client.callTool({ name: 'read_text_file', arguments: { path: readme, api_key: API_KEY, note: `Bearer ${JWT}` } });
    const masked = await client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'customers.json') } });
    assert.notEqual(plain.isError, true);
    assert.notEqual(masked.isError, true);

    const [first, second] = await eventually('both calls are in the session record', async () => {
      const mine = (await statements()).filter((body) => body.statement.text.startsWith('tools/call read_text_file'));
      return mine.length >= 2 ? mine : undefined;
    });
    assert.equal(first!.statement.text, `tools/call read_text_file {"path":${JSON.stringify(readme)},"api_key":"[redacted]","note":"Bearer [redacted]"}`);
    assert.deepEqual({ kind: first!.statement.kind, method: (first!.statement as { method?: string }).method, path: (first!.statement as { path?: string }).path }, {
      kind: 'tool',
      method: 'tools/call',
      path: 'read_text_file',
    });
    for (const entry of [first!, second!]) {
      assert.equal(entry.status, 'success');
      assert.equal(typeof entry.decision_id, 'string');
      assert.equal(typeof entry.duration_ms, 'number');
      assert.ok(Number(entry.bytes) > 0, `bytes ${entry.bytes}`);
      assert.equal(entry.protocol, 'mcp');
    }
    assert.equal(first!.masked_cells ?? 0, 0);
    // An e-mail and a card number, in the text and in structuredContent.
    assert.equal(second!.masked_cells, 4);
    const decisions = await gateway.pdp.auditEvents('decisions');
    assert.ok(JSON.stringify(decisions).includes(String(first!.decision_id)), 'the entry names the decision that allowed it');
    const sessionRecords = JSON.stringify(await gateway.pdp.auditEvents('sessions'));
    assert.equal(sessionRecords.includes(API_KEY), false);
    assert.equal(sessionRecords.includes(JWT), false);
    await gateway.disconnect(client);
  });

  it('records no entry for a denied call, and the sessions CLI shows the session with its calls and decisions', async () => {
    const denied = await gateway.connect('files', await gateway.token('agent-refused', ['no-calls']));
    const refusal = await denied.callTool({ name: 'read_text_file', arguments: { path: join(root, 'readme.md') } });
    assert.equal(refusal.isError, true);
    await gateway.disconnect(denied);

    const client = await gateway.connect('files', await gateway.token('agent-shown', ['reader']));
    await client.callTool({ name: 'list_directory', arguments: { path: root } });
    await gateway.disconnect(client);

    const entry = await eventually('the listing is in the session record', async () => (await statements()).find((body) => body.statement.text.startsWith('tools/call list_directory')));
    const refusedText = `tools/call read_text_file {"path":${JSON.stringify(join(root, 'readme.md'))}}`;
    assert.equal((await statements()).filter((body) => body.statement.text === refusedText).length, 0, 'a denied call never ran, so it is no entry');
    await eventually('the session ended', async () => sessionEventBodies(await gateway.pdp.auditEvents('sessions')).some((body) => body.event === 'session.end' && body.session.id === entry.session.id));

    const listed = await sessionsCli(gateway.pdp.stateDir, 'list', '--principal', 'agent-shown', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const sessions = JSON.parse(listed.stdout.toString('utf8')) as { id: string; protocol?: string; resource?: { name?: string }; commands: number }[];
    const session = sessions.find((each) => each.id === entry.session.id);
    assert.ok(session, listed.stdout.toString('utf8'));
    assert.equal(session.protocol, 'mcp');
    assert.equal(session.resource?.name, 'files');
    assert.ok(session.commands >= 1);

    const shown = await sessionsCli(gateway.pdp.stateDir, 'show', entry.session.id, '--json');
    assert.equal(shown.code, 0, shown.stderr);
    const detail = JSON.parse(shown.stdout.toString('utf8')) as { commands_list: { decision_id?: string; effect?: string; runs: { status?: string; duration_ms?: number }[] }[] };
    const call = detail.commands_list.find((command) => command.decision_id === entry.decision_id);
    assert.ok(call, shown.stdout.toString('utf8'));
    assert.equal(call.effect, 'allow');
    assert.equal(call.runs[0]?.status, 'success');

    const refusedSessions = JSON.parse((await sessionsCli(gateway.pdp.stateDir, 'list', '--principal', 'agent-refused', '--json')).stdout.toString('utf8')) as { denied: number }[];
    assert.equal(refusedSessions.reduce((sum, each) => sum + each.denied, 0) >= 1, true, 'the denied call shows as a denied decision of its session');
  });
});

describe("session records of a database tool's calls", () => {
  let postgres: TestPostgres;
  let gateway: McpGateway;

  before(async () => {
    postgres = await startTestPostgres();
    const db = await prepareDatabaseServer(postgres, 'records');
    gateway = await startMcpGateway({ servers: [stdioServerEntry('db', db.readOnlyLaunch)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: callsTestPolicyBundle() } });
  });
  after(async () => {
    await gateway?.close();
    await postgres?.stop();
  });

  it('records the SQL with its string literals redacted, its numbers and shape kept', async () => {
    const client = await gateway.connect('db', await gateway.token('agent-sql', ['reader']));
    const result = await client.callTool({ name: 'query', arguments: { sql: "SELECT id, total FROM orders WHERE customer = 'grace' AND id < 3" } });
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    assert.match(JSON.stringify(result.content), /99/, 'the query ran with its literal as sent');
    const entry = await eventually('the query is in the session record', async () =>
      sessionStatementBodies(await gateway.pdp.auditEvents('sessions')).find((body) => body.statement.text.startsWith('tools/call query')),
    );
    assert.equal(entry.statement.text, `tools/call query {"sql":"SELECT id, total FROM orders WHERE customer = '[redacted]' AND id < 3"}`);
    assert.equal(entry.status, 'success');
    await gateway.disconnect(client);
  });
});
