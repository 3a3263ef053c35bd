// Credentials inside a tool's argument values (a note holding a Bearer JWT, a PEM private key, a
// connection URL with its password) never reach the decision record, whatever the argument is
// called: the audit trail's last-line redaction reads every text for them and lists the paths.
// An approval's card shows the arguments with them replaced, and binds to the exact values.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { auditBodyOf } from '@portcullis/pdp';

const MCP_DB_PROD = { type: 'mcp', name: 'mcp-db-prod', environment: 'production' };
const MCP_FILES = { type: 'mcp', name: 'mcp-files', environment: 'staging' };
const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const JWT = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url({ sub: 'someone', exp: 2_000_000_000 })}.c2lnbmF0dXJlLWJ5dGVz`;
const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
const PEM = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----`;
const PASSWORD = 'pg-Secret-4711';

describe('credentials inside MCP argument values', () => {
  let pdp: TestPdp;
  let reader: string;

  before(async () => {
    pdp = await startTestPdp();
    reader = await pdp.token({ sub: 'agent:reporter', roles: ['reader'] });
  });
  after(async () => {
    await pdp?.close();
  });

  it('are replaced in the decision record, the paths listed, the rest of the text kept', async () => {
    const args = {
      note: `use Authorization: Bearer ${JWT} for the call`,
      raw_token: `token is ${JWT}`,
      key: `here:\n${PEM}\nthanks`,
      dsn: `postgres://app:${PASSWORD}@db.internal:5432/app`,
      plain: 'nothing.secret.here and ey-not-a-token',
    };
    const answer = await pdp.decide({ subject_token: reader, resource: MCP_FILES, action: { type: 'mcp', method: 'tools/call', tool: 'write_note', arguments: args }, session: { id: 'mcp-credentials-1' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const records = await pdp.auditEvents('decisions');
    const record = records.find((candidate) => JSON.stringify(candidate).includes('write_note'));
    assert.ok(record, 'the call was recorded');
    const text = JSON.stringify(record);
    for (const secret of [JWT.split('.')[1]!, JWT.split('.')[2]!, KEY_BODY, PASSWORD]) assert.equal(text.includes(secret), false, `the record holds ${secret}`);
    assert.match(text, /for the call/, 'the rest of the note is kept');
    assert.match(text, /postgres:\/\/app:\[REDACTED\]@db\.internal/);
    assert.match(text, /nothing\.secret\.here and ey-not-a-token/, 'text that is no credential is kept');
    const portcullis = auditBodyOf(record) as { redacted?: string[] };
    for (const name of ['note', 'raw_token', 'key', 'dsn']) {
      assert.ok(portcullis.redacted?.some((path) => path.endsWith(`arguments.${name}`)), `${name} listed among ${JSON.stringify(portcullis.redacted)}`);
    }
  });

  it('are replaced on the approval card, and the approval runs exactly the values it was asked for, once', async () => {
    const dba = await pdp.token({ sub: 'dana', roles: ['dba'], kind: 'human' });
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const bob = await pdp.consoleToken({ sub: 'bob', roles: ['approver'], kind: 'human' });
    const otherJwt = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ sub: 'intruder' })}.b3RoZXItc2lnbmF0dXJl`;
    const call = (token: string) => ({
      subject_token: dba,
      resource: MCP_DB_PROD,
      action: { type: 'mcp', method: 'tools/call', tool: 'execute', arguments: { sql: "ALTER ROLE reporting PASSWORD 'kept-aside'", note: `Bearer ${token}` }, annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false } },
      session: { id: 'mcp-credentials-2' },
    });

    const requested = await requestApproval(pdp, call(JWT));
    const shown = await fetch(`${pdp.url}/v1/approvals/${requested.id}`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(shown.status, 200);
    const view = (await shown.json()) as { approval: { action: { arguments: { note: string } } } };
    assert.equal(view.approval.action.arguments.note, 'Bearer [REDACTED]', 'the approver sees the token replaced');
    assert.equal(JSON.stringify(view).includes(JWT.split('.')[1]!), false);
    assert.equal((await vote(pdp.url, alice, requested.id, 'approve', 'OPS-10')).status, 200);
    assert.equal((await vote(pdp.url, bob, requested.id, 'approve', 'OPS-10')).status, 200);

    // Another token looks the same on the card, yet is not what was approved.
    const other = await pdp.decide(call(otherJwt));
    assert.equal(other.body.effect, 'approval_required', JSON.stringify(other.body));
    assert.notEqual((other.body.approval as { id: string }).id, requested.id);
    const exact = await pdp.decide(call(JWT));
    assert.equal(exact.body.effect, 'allow', JSON.stringify(exact.body));
    assert.equal((exact.body.approval as { id: string }).id, requested.id);
    const again = await pdp.decide(call(JWT));
    assert.notEqual(again.body.effect, 'allow', 'one approval, one execution');

    const trail = JSON.stringify([...(await pdp.auditEvents('decisions')), ...(await pdp.auditEvents('approvals'))]);
    for (const secret of [JWT.split('.')[1]!, otherJwt.split('.')[1]!]) assert.equal(trail.includes(secret), false, `the audit trail holds ${secret}`);
  });
});
