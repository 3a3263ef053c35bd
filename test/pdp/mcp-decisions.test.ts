// MCP decisions through the real PDP and the starter bundle: the tool arguments its data names
// are analysed (SQL by the SQL analyzer, paths normalised) and judged by the same rules as the
// Postgres PEP's statements and SFTP's paths; tools/list answers name the tools to hide; a SQL
// argument's secret never reaches a record or an approver, yet an approval binds to it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

const MCP_DB = { type: 'mcp', name: 'mcp-db', environment: 'staging' };
const MCP_DB_PROD = { type: 'mcp', name: 'mcp-db-prod', environment: 'production' };
const MCP_FILES = { type: 'mcp', name: 'mcp-files', environment: 'staging' };
const ROOT = '/tmp/portcullis-mcp-fs-decisions';

const SQL_TOOL = { readOnlyHint: false, openWorldHint: false };
const WRITE_TOOL = { readOnlyHint: false, destructiveHint: true, openWorldHint: false };

function toolCall(subjectToken: string, resource: object, tool: string, args: Record<string, unknown>, annotations: object) {
  return { subject_token: subjectToken, resource, action: { type: 'mcp', method: 'tools/call', tool, arguments: args, annotations }, session: { id: 'mcp-session-1' } };
}

function codes(body: Record<string, unknown>): string[] {
  return (body.reasons as { code: string }[]).map((reason) => reason.code);
}

describe('MCP decisions through the PDP and the starter policy', () => {
  let pdp: TestPdp;
  let reader: string;
  let writer: string;

  before(async () => {
    pdp = await startTestPdp();
    reader = await pdp.token({ sub: 'agent:reporter', roles: ['reader'] });
    writer = await pdp.token({ sub: 'agent:editor', roles: ['reader', 'writer'] });
  });
  after(async () => {
    await pdp?.close();
  });

  it('judges a database tool\'s SQL by the SQL rules and masks its rows by column', async () => {
    const select = await pdp.decide(toolCall(reader, MCP_DB, 'query', { sql: 'SELECT id, email FROM users WHERE id = $1', params: [7] }, SQL_TOOL));
    assert.equal(select.status, 200);
    assert.equal(select.body.effect, 'allow', JSON.stringify(select.body));
    assert.deepEqual(codes(select.body), ['sql-read-allowed']);
    const masks = (select.body.obligations as { mask: Array<{ kind: string; path?: string; strategy: string }> }).mask;
    assert.deepEqual(masks.filter((mask) => mask.kind === 'json-path'), [{ kind: 'json-path', path: '$.rows[*]["email"]', strategy: 'partial' }]);

    const update = await pdp.decide(toolCall(reader, MCP_DB, 'query', { sql: "UPDATE orders SET status = 'x' WHERE id = 7" }, SQL_TOOL));
    assert.equal(update.body.effect, 'deny');
    assert.ok(codes(update.body).includes('insufficient-role'), JSON.stringify(update.body));

    const unparsable = await pdp.decide(toolCall(writer, MCP_DB, 'query', { sql: 'SELEC 1' }, SQL_TOOL));
    assert.equal(unparsable.body.effect, 'deny');
    assert.ok(codes(unparsable.body).includes('mcp-argument-unreadable'), JSON.stringify(unparsable.body));

    const missing = await pdp.decide(toolCall(writer, MCP_DB, 'query', {}, SQL_TOOL));
    assert.equal(missing.body.effect, 'deny');
    assert.ok(codes(missing.body).includes('mcp-argument-unreadable'), JSON.stringify(missing.body));

    // The record holds the analysis policy judged, under the action as enriched.
    const records = await pdp.auditEvents('decisions');
    const recorded = JSON.stringify(records.find((record) => JSON.stringify(record).includes('SELECT id, email FROM users')));
    assert.match(recorded, /"argument_analysis"/);
    assert.match(recorded, /"kind":"select"/);
  });

  it('normalises path arguments and denies writes outside the server\'s roots', async () => {
    const inside = await pdp.decide(toolCall(writer, MCP_FILES, 'write_file', { path: `${ROOT}//notes/./a.txt`, content: 'x' }, WRITE_TOOL));
    assert.equal(inside.body.effect, 'allow', JSON.stringify(inside.body));
    const outside = await pdp.decide(toolCall(writer, MCP_FILES, 'write_file', { path: '/srv/a.txt', content: 'x' }, WRITE_TOOL));
    assert.equal(outside.body.effect, 'deny');
    assert.ok(codes(outside.body).includes('mcp-write-outside-roots'), JSON.stringify(outside.body));
    const climbing = await pdp.decide(toolCall(writer, MCP_FILES, 'write_file', { path: `${ROOT}/../../etc/cron.d/x`, content: 'x' }, WRITE_TOOL));
    assert.equal(climbing.body.effect, 'deny');
    assert.ok(codes(climbing.body).includes('mcp-argument-unreadable'), JSON.stringify(climbing.body));
    const secret = await pdp.decide(toolCall(reader, MCP_FILES, 'read_text_file', { path: '/etc/shadow' }, { readOnlyHint: true }));
    assert.equal(secret.body.effect, 'deny');
    assert.ok(codes(secret.body).includes('file-secret-path'), JSON.stringify(secret.body));
  });

  it('answers tools/list with the tools policy never lets this principal call', async () => {
    const tools = [
      { name: 'read_text_file', annotations: { readOnlyHint: true } },
      { name: 'write_file', annotations: WRITE_TOOL },
      { name: 'create_directory', annotations: { readOnlyHint: false, destructiveHint: false } },
    ];
    const list = (token: string) => pdp.decide({ subject_token: token, resource: MCP_FILES, action: { type: 'mcp', method: 'tools/list', tools } });
    const forReader = await list(reader);
    assert.equal(forReader.body.effect, 'allow');
    assert.deepEqual((forReader.body.obligations as { hidden_tools?: string[] }).hidden_tools, ['create_directory', 'write_file']);
    const forWriter = await list(writer);
    assert.deepEqual((forWriter.body.obligations as { hidden_tools?: string[] }).hidden_tools, []);
  });

  it('lets a server ask the agent only what data allows', async () => {
    const ask = (resource: object, method: string) => pdp.decide({ subject_token: reader, resource, action: { type: 'mcp', method, direction: 'to_client', params: {} } });
    const everything = { type: 'mcp', name: 'mcp-everything', environment: 'staging' };
    assert.equal((await ask(everything, 'roots/list')).body.effect, 'allow');
    assert.equal((await ask(everything, 'sampling/createMessage')).body.effect, 'allow');
    // The filesystem server would serve whatever roots the agent names: it is never let ask.
    assert.equal((await ask(MCP_FILES, 'roots/list')).body.effect, 'deny');
    assert.equal((await ask(MCP_FILES, 'sampling/createMessage')).body.effect, 'deny');
  });

  it('shows approvers a SQL argument with its secret redacted, and binds the approval to the secret withheld', async () => {
    const dba = await pdp.token({ sub: 'dana', roles: ['dba'], kind: 'human' });
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const bob = await pdp.consoleToken({ sub: 'bob', roles: ['approver'], kind: 'human' });
    const alterRole = (password: string) => toolCall(dba, MCP_DB_PROD, 'execute', { sql: `ALTER ROLE reporting PASSWORD '${password}'`, params: [] }, WRITE_TOOL);

    const requested = await requestApproval(pdp, alterRole('Approved-Pw-1'));
    const shown = await fetch(`${pdp.url}/v1/approvals/${requested.id}`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(shown.status, 200);
    const view = (await shown.json()) as { approval: { action: { arguments: { sql: string } } } };
    assert.match(view.approval.action.arguments.sql, /^ALTER ROLE reporting PASSWORD '\[redacted\]'/);
    assert.doesNotMatch(JSON.stringify(view), /Approved-Pw-1/);
    assert.equal((await vote(pdp.url, alice, requested.id, 'approve', 'rotation OPS-9')).status, 200);
    assert.equal((await vote(pdp.url, bob, requested.id, 'approve', 'rotation OPS-9')).status, 200);

    // The approver saw the password withheld; another password is not what was approved.
    const other = await pdp.decide(alterRole('Attacker-Pw-2'));
    assert.equal(other.body.effect, 'approval_required', JSON.stringify(other.body));
    assert.notEqual((other.body.approval as { id: string }).id, requested.id);
    const exact = await pdp.decide(alterRole('Approved-Pw-1'));
    assert.equal(exact.body.effect, 'allow', JSON.stringify(exact.body));
    assert.equal((exact.body.approval as { id: string }).id, requested.id);

    const trail = JSON.stringify([...(await pdp.auditEvents('decisions')), ...(await pdp.auditEvents('approvals'))]);
    for (const secret of ['Approved-Pw-1', 'Attacker-Pw-2']) assert.ok(!trail.includes(secret), `the audit trail holds ${secret}`);
    assert.ok(trail.includes('ALTER ROLE reporting PASSWORD'), 'the trail records the statement');
  });
});
