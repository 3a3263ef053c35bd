// Credentials inside a tool's argument values (a note holding a Bearer JWT, a PEM private key, a
// connection URL with its password) never reach the decision record, whatever the argument is
// called: the audit trail's last-line redaction reads every text for them and lists the paths.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

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
    const portcullis = (record.unmapped as { portcullis: { redacted?: string[] } }).portcullis;
    for (const name of ['note', 'raw_token', 'key', 'dsn']) {
      assert.ok(portcullis.redacted?.some((path) => path.endsWith(`arguments.${name}`)), `${name} listed among ${JSON.stringify(portcullis.redacted)}`);
    }
  });
});
