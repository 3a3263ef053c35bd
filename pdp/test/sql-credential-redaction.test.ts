import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { redactCredentials } from '../src/audit/ocsf/credential-redaction.ts';
import { createSqlAnalyzer, type EnrichedSqlAction, type SqlAnalyzer } from '../src/enrichment/sql-analyzer.ts';
import { redactSqlText, withoutSqlSecrets } from '../src/enrichment/sql/sql-text-redaction.ts';

let analyzer: SqlAnalyzer;

before(async () => {
  analyzer = await createSqlAnalyzer();
});

/** Analyses `sql`; asserts no secret appears anywhere in what the analysis returns. */
function redacted(sql: string, secrets: readonly string[]): EnrichedSqlAction {
  const action = analyzer.analyze(sql);
  const everything = JSON.stringify(action);
  for (const secret of secrets) assert.ok(!everything.includes(secret), `${secret} is redacted from ${JSON.stringify(everything).slice(0, 400)}`);
  return action;
}

function kinds(action: EnrichedSqlAction): string[] {
  return action.statements.flatMap((statement) => statement.credentials.map((credential) => credential.kind));
}

describe('credentials in SQL never leave the analysis', () => {
  test('role passwords, however they are written', () => {
    const cases: Array<[string, string]> = [
      ["ALTER ROLE reporting PASSWORD 'Hunter2-plain'", 'Hunter2-plain'],
      ["alter user reporting with encrypted password 'Hunter2-lower'", 'Hunter2-lower'],
      ["CREATE ROLE app LOGIN PASSWORD 'Hunter2-create' VALID UNTIL 'infinity'", 'Hunter2-create'],
      ["CREATE USER app WITH PASSWORD E'Hunter2\\'escaped'", 'Hunter2'],
      ['ALTER ROLE reporting PASSWORD $pw$Hunter2-dollar$pw$', 'Hunter2-dollar'],
      ["ALTER ROLE reporting PASSWORD U&'Hunter2\\0021uni'", 'Hunter2'],
      ["ALTER ROLE reporting PASSWORD 'Hunter2-'\n'continued'", 'continued'],
      // What psql's \password sends.
      ["ALTER USER reporting PASSWORD 'SCRAM-SHA-256$4096:c2FsdHNhbHQ=$c3RvcmVka2V5:c2VydmVya2V5'", 'c3RvcmVka2V5'],
      ["ALTER ROLE \"Reporting\" PASSWORD 'Hunter2-ünïcode'", 'Hunter2-ünïcode'],
    ];
    for (const [sql, secret] of cases) {
      const action = redacted(sql, [secret]);
      assert.equal(action.parse_error, null, sql);
      assert.deepEqual(kinds(action), ['password'], sql);
      assert.match(action.statements[0]!.text, /PASSWORD '\[redacted\]'/i, sql);
    }
    // No secret, nothing to redact or report.
    assert.deepEqual(kinds(redacted('ALTER ROLE reporting PASSWORD NULL', [])), []);
  });

  test('user mappings, servers and wrappers: credential options only', () => {
    const mapping = redacted("CREATE USER MAPPING FOR bob SERVER remote OPTIONS (user 'bob_remote', password 'Map-Secret-1')", ['Map-Secret-1']);
    assert.match(mapping.sql, /user 'bob_remote'/);
    assert.deepEqual(kinds(mapping), ['password']);
    redacted("ALTER USER MAPPING FOR bob SERVER remote OPTIONS (SET password 'Map-Secret-2', ADD \"sslpassword\" 'Map-Secret-3')", ['Map-Secret-2', 'Map-Secret-3']);
    redacted("ALTER USER MAPPING FOR bob SERVER remote OPTIONS (ADD U&\"p\\0061ssword\" 'Map-Secret-4')", ['Map-Secret-4']);
    const server = redacted("CREATE SERVER s3 FOREIGN DATA WRAPPER s3_fdw OPTIONS (aws_secret_access_key 'Server-Secret-5', region 'eu-west-1')", ['Server-Secret-5']);
    assert.match(server.sql, /region 'eu-west-1'/);
    redacted("ALTER SERVER remote OPTIONS (ADD api_token 'Server-Secret-6')", ['Server-Secret-6']);
  });

  test('subscriptions and dblink connection strings', () => {
    redacted("CREATE SUBSCRIPTION sub CONNECTION 'host=db1 user=rep password=Sub-Secret-1' PUBLICATION pub", ['Sub-Secret-1']);
    redacted("ALTER SUBSCRIPTION sub CONNECTION 'host=db2 password=Sub-Secret-2'", ['Sub-Secret-2']);
    const link = redacted("SELECT * FROM dblink('host=db1 password=Link-Secret-1', 'SELECT id FROM orders') AS t(id int)", ['Link-Secret-1']);
    assert.match(link.sql, /'SELECT id FROM orders'/, 'the remote query stays visible');
    assert.deepEqual(kinds(link), ['function-argument']);
    redacted("SELECT dblink_connect('conn1', 'host=db1 password=' || 'Link-Secret-2')", ['Link-Secret-2']);
    redacted("SELECT dblink_exec('postgresql://u:Link-Secret-3@db1/app', 'DELETE FROM t')", ['Link-Secret-3']);
    redacted("SELECT public.dblink_connect_u('dbname=x password=Link-Secret-4')", ['Link-Secret-4']);
  });

  test('secret function arguments and settings named as credentials', () => {
    redacted("SELECT pgp_sym_decrypt(data, 'Crypt-Secret-1') FROM vault", ['Crypt-Secret-1']);
    redacted("SELECT crypt('Crypt-Secret-2', gen_salt('bf'))", ['Crypt-Secret-2']);
    redacted("SELECT hmac(payload, 'Crypt-Secret-3', 'sha256') FROM events", ['Crypt-Secret-3']);
    const setting = redacted("SET app.api_key = 'Setting-Secret-1'", ['Setting-Secret-1']);
    assert.deepEqual(setting.statements[0]!.settings.map((change) => change.value), ['[redacted]']);
    redacted("SELECT set_config('app.password', 'Setting-Secret-2', false)", ['Setting-Secret-2']);
    redacted("ALTER ROLE app SET myext.secret TO 'Setting-Secret-3'", ['Setting-Secret-3']);
    // An UPDATE's SET assigns a column: its value stays visible to approvers.
    assert.match(redacted("UPDATE webhooks SET url = 'https://hooks.example/x' WHERE id = 1", []).sql, /https:\/\/hooks\.example\/x/);
  });

  test('comments between the keyword and the secret change nothing', () => {
    for (const [sql, secret] of [
      ["ALTER ROLE x PASSWORD /* c */ 'Comment-Secret-1'", 'Comment-Secret-1'],
      ["ALTER ROLE x PASSWORD -- c\n 'Comment-Secret-2'", 'Comment-Secret-2'],
      ["CREATE USER MAPPING FOR u SERVER s OPTIONS (password /*x*/ 'Comment-Secret-3')", 'Comment-Secret-3'],
      ["SET app.secret /*x*/ = /*y*/ 'Comment-Secret-4'", 'Comment-Secret-4'],
      ["ALTER SUBSCRIPTION s CONNECTION --x\n'host=h password=Comment-Secret-5'", 'Comment-Secret-5'],
    ]) {
      redacted(sql as string, [secret as string]);
    }
  });

  test('texts the parser rejects, multi-statement texts and parse errors', () => {
    const trailing = redacted("ALTER ROLE reporting PASSWORD 'Bad-Secret-1' oops", ['Bad-Secret-1']);
    assert.equal(typeof trailing.parse_error, 'string');
    const quoted = redacted("ALTER ROLE reporting PASSWORD 'Bad-Secret-2' 'Bad-Secret-3'", ['Bad-Secret-2']);
    assert.equal(typeof quoted.parse_error, 'string');
    const unterminated = redacted("ALTER ROLE reporting PASSWORD 'Bad-Secret-4", ['Bad-Secret-4']);
    assert.match(unterminated.sql, /^ALTER ROLE reporting \[redacted/);
    const several = redacted("SELECT 1; ALTER ROLE a PASSWORD 'Multi-Secret-1'; CREATE ROLE b PASSWORD 'Multi-Secret-2'; SELECT 'é'", ['Multi-Secret-1', 'Multi-Secret-2']);
    assert.deepEqual(several.statements.map((statement) => statement.credentials.length), [0, 1, 1, 0]);
    assert.equal(several.statements[3]!.text, "SELECT 'é'");
  });

  test('a set_config value whose setting name is computed is withheld: the name may be a credential\'s', () => {
    for (const sql of [
      "SELECT set_config('app.' || 'password', 'Hidden-Value-1', false)",
      "SELECT set_config(name, 'Hidden-Value-2', false) FROM pg_settings WHERE name LIKE 'app.%'",
      "SELECT set_config(lower('APP.TOKEN'), 'Hidden-Value-3', false)",
    ]) {
      const action = redacted(sql, [sql.match(/Hidden-Value-\d/)![0]]);
      assert.deepEqual(action.statements[0]!.settings.map((change) => [change.name, change.value]), [[null, '[redacted]']]);
    }
    // A constant name that is no credential keeps its value: policy compares it.
    assert.deepEqual(redacted("SELECT set_config('client_encoding', 'SJIS', false)", []).statements[0]!.settings.map((change) => change.value), ['SJIS']);
  });

  test('texts refused before parsing (too long, NUL, lone surrogate) are redacted too', () => {
    for (const [sql, secret] of [
      [`ALTER ROLE r PASSWORD 'Refused-Secret-1'; -- ${'x'.repeat(300 * 1024)}`, 'Refused-Secret-1'],
      ["ALTER ROLE r PASSWORD 'Refused-Secret-2';\u0000", 'Refused-Secret-2'],
      ["ALTER ROLE r PASSWORD 'Refused-Secret-3'; SELECT '\uD800'", 'Refused-Secret-3'],
    ] as const) {
      const action = redacted(sql, [secret]);
      assert.equal(typeof action.parse_error, 'string');
      assert.deepEqual(action.statements, []);
    }
  });

  test('texts without credentials are returned exactly as sent', () => {
    for (const sql of ['  SELECT 1  ', "SELECT * FROM orders FOR KEY SHARE", "SELECT 'password' AS label, key FROM t"]) {
      assert.equal(analyzer.analyze(sql).sql, sql);
    }
  });

  test('session statements and any recorded `sql` member are redacted too', () => {
    assert.equal(redactSqlText("ALTER ROLE r PASSWORD 'Rec-Secret-1'"), "ALTER ROLE r PASSWORD '[redacted]'");
    const event = withoutSqlSecrets({ protocol: 'sql', event: 'session.statement', statement: { text: "CREATE ROLE r PASSWORD 'Rec-Secret-2'" } });
    assert.ok(!event.statement.text.includes('Rec-Secret-2'));
    const shell = { protocol: 'shell', event: 'session.statement', statement: { text: "echo 'password' 'x'" } };
    assert.equal(withoutSqlSecrets(shell), shell);
    const body = redactCredentials({ action: { type: 'sql', sql: "ALTER ROLE r PASSWORD 'Rec-Secret-3'" } }, redactSqlText);
    assert.ok(!JSON.stringify(body.value).includes('Rec-Secret-3'));
    assert.deepEqual(body.redacted, ['action.sql']);
  });
});
