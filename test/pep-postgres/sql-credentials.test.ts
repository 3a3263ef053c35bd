/**
 * Credentials in SQL never reach the audit trail, the approval record or the logs, end to end:
 * the real PDP (JSONL audit), the Postgres PEP and PostgreSQL. The server still gets the
 * statement as sent: the role really gets its password.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startPepStack, UPSTREAM_USER, type PepStack } from './pep-stack.ts';
import { auditBodyOf } from '@portcullis/pdp';

const SEED = `
  RESET ROLE;
  ALTER ROLE ${UPSTREAM_USER} CREATEROLE;
  CREATE EXTENSION postgres_fdw;
  CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', dbname 'postgres');
  ALTER SERVER remote OWNER TO ${UPSTREAM_USER};
  GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO ${UPSTREAM_USER};
`;

/** Every file under `dir`, read as text. */
function filesUnder(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, text: readFileSync(path).toString('utf8') }));
}

function assertNowhere(stack: PepStack, secrets: readonly string[]): void {
  const files = filesUnder(join(stack.pdp.stateDir, 'audit'));
  assert.ok(files.some((file) => file.path.endsWith('decisions.jsonl')), 'the decisions were recorded');
  for (const secret of secrets) {
    for (const file of files) assert.ok(!file.text.includes(secret), `${secret} is not in ${file.path}`);
    assert.ok(!stack.logs.join('\n').includes(secret), `${secret} is not in the PEP's log`);
  }
}

async function canLogIn(stack: PepStack, user: string, password: string): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port: stack.pg.port, user, password, database: 'postgres' });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

describe('credentials in SQL through the Postgres PEP (staging)', () => {
  let stack: PepStack;
  let dba: string;
  let agent: string;

  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db', seed: SEED });
    dba = await stack.token('human-credentials-dba', ['dba'], 'human');
    agent = await stack.token('agent-credentials-writer', ['writer']);
  });
  after(() => stack?.close());

  it('runs role passwords, user mappings and server options as sent, and records none of the secrets', async () => {
    const client = await stack.client(dba);
    try {
      await client.query("CREATE ROLE reporting LOGIN PASSWORD 'Create-Pw-7f3a9'");
      await client.query("ALTER ROLE reporting PASSWORD 'Alter-Pw-2b8c1'");
      await client.query("ALTER USER reporting WITH ENCRYPTED PASSWORD E'Encrypted-Pw-\\'5d'");
      await client.query('ALTER ROLE reporting PASSWORD $pw$Dollar-Pw-9e4f$pw$');
      await client.query("CREATE USER MAPPING FOR CURRENT_USER SERVER remote OPTIONS (user 'reporting', password 'Mapping-Pw-1c7d')");
      await client.query("ALTER USER MAPPING FOR CURRENT_USER SERVER remote OPTIONS (SET password 'Mapping-Pw-8a2e')");
      await client.query("ALTER USER MAPPING FOR CURRENT_USER SERVER remote OPTIONS (ADD sslpassword 'Ssl-Pw-3f6b')");
      await client.query("ALTER SERVER remote OPTIONS (ADD application_name 'visible-name')");
      // What psql's \\password sends: a SCRAM verifier, itself a secret.
      await client.query("CREATE ROLE verifier_role PASSWORD 'SCRAM-SHA-256$4096:U2FsdFNlY3JldA==$U3RvcmVkS2V5U2VjcmV0QUJDREVGR0hJSktMTU5PUFFSU1RVVg=:U2VydmVyS2V5U2VjcmV0QUJDREVGR0hJSktMTU5PUFFSU1RVVg='");
    } finally {
      await client.end();
    }
    assert.equal(await canLogIn(stack, 'reporting', 'Dollar-Pw-9e4f'), true, 'the server got the real password');
    assert.equal((await stack.pg.sql("SELECT array_to_string(umoptions, ',') FROM pg_user_mappings WHERE srvname = 'remote'")).trim(), 'user=reporting,password=Mapping-Pw-8a2e,sslpassword=Ssl-Pw-3f6b');
    await stack.pdp.auditEvents('sessions'); // flushes the trail
    assertNowhere(stack, ['Create-Pw-7f3a9', 'Alter-Pw-2b8c1', 'Encrypted-Pw-', 'Dollar-Pw-9e4f', 'Mapping-Pw-1c7d', 'Mapping-Pw-8a2e', 'Ssl-Pw-3f6b', 'U3RvcmVkS2V5U2VjcmV0']);
    const decisions = await stack.pdp.auditEvents('decisions');
    const alter = decisions
      .map((record) => (auditBodyOf(record) as { action: { sql?: string; statements?: Array<{ credentials?: unknown }> } }).action)
      .find((action) => action?.sql?.startsWith('ALTER ROLE reporting PASSWORD'));
    assert.equal(alter?.sql, "ALTER ROLE reporting PASSWORD '[redacted]'");
    assert.deepEqual(alter?.statements?.[0]?.credentials, [{ kind: 'password', name: null }]);
  });

  it('keeps secrets of refused statements, parse errors and connection strings out of the trail too', async () => {
    const client = await stack.client(agent);
    try {
      for (const sql of [
        "ALTER ROLE reporting PASSWORD 'Refused-Pw-4a1b'",
        "ALTER ROLE reporting PASSWORD 'Broken-Pw-6c2d' oops",
        "ALTER ROLE reporting PASSWORD 'Unterminated-Pw-8e3f",
        "SELECT dblink_connect('link', 'host=127.0.0.1 password=Dblink-Pw-2b9c')",
        "SELECT * FROM dblink('host=127.0.0.1 password=Dblink-Pw-7d1e', 'SELECT 1') AS t(x int)",
        "CREATE SUBSCRIPTION sub CONNECTION 'host=127.0.0.1 password=Subscription-Pw-5f0a' PUBLICATION pub",
        "SELECT set_config('app.secret', 'Setting-Pw-3c8d', false)",
      ]) {
        await assert.rejects(client.query(sql), (error: { code?: string }) => ['42501', '42601'].includes(error.code ?? ''), sql);
      }
    } finally {
      await client.end();
    }
    await stack.pdp.auditEvents('sessions');
    assertNowhere(stack, ['Refused-Pw-4a1b', 'Broken-Pw-6c2d', 'Unterminated-Pw-8e3f', 'Dblink-Pw-2b9c', 'Dblink-Pw-7d1e', 'Subscription-Pw-5f0a', 'Setting-Pw-3c8d']);
  });
});

describe('credentials in SQL that need approval (production)', () => {
  let stack: PepStack;
  let dba: string;

  before(async () => {
    stack = await startPepStack({ resource: 'orders-db', seed: `RESET ROLE; ALTER ROLE ${UPSTREAM_USER} CREATEROLE;` });
    dba = await stack.token('human-credentials-dba', ['dba'], 'human');
  });
  after(() => stack?.close());

  it('shows approvers the statement with its password redacted, and runs the real one once approved', async () => {
    const client = await stack.client(dba);
    try {
      const notice = new Promise<string>((resolve) => client.once('notice', (message) => resolve(message.message ?? '')));
      const result = client.query("CREATE ROLE audited LOGIN PASSWORD 'Approved-Pw-9a7c'");
      result.catch(() => undefined);
      const approvalId = /approval ([0-9a-f-]{36})/.exec(await notice)?.[1];
      assert.ok(approvalId, 'the statement is held for approval');
      for (const approver of ['alice', 'bob']) {
        const token = await stack.consoleToken(approver, ['approver']);
        const shown = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}`, { headers: { authorization: `Bearer ${token}` } });
        const record = JSON.stringify(await shown.json());
        assert.ok(record.includes("CREATE ROLE audited LOGIN PASSWORD '[redacted]'"), record.slice(0, 300));
        assert.ok(!record.includes('Approved-Pw-9a7c'));
        const vote = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ verdict: 'approve', reason: 'rotation' }),
        });
        assert.equal(vote.status, 200, await vote.text());
      }
      await result;
    } finally {
      await client.end();
    }
    assert.equal(await canLogIn(stack, 'audited', 'Approved-Pw-9a7c'), true, 'the server got the real password');
    await stack.pdp.auditEvents('approvals');
    assertNowhere(stack, ['Approved-Pw-9a7c']);
  });
});
