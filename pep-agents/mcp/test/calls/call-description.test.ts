// A call's session entry: the tool and its arguments as compact JSON, with what may be a secret
// redacted; SQL with its literals redacted; the kind, method and path the Sessions view shows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeCall } from '../../src/calls/call-description.ts';
import { redactSqlLiterals } from '../../src/calls/sql-literal-redaction.ts';

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLXZhbHVl';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----';

describe('describeCall', () => {
  it('names the tool and its arguments as compact JSON; kind tool, method, the tool as path', () => {
    assert.deepEqual(describeCall({ action: { method: 'tools/call', tool: 'read_file', arguments: { path: '/srv/data/a.txt', head: 10 } } }), {
      text: 'tools/call read_file {"path":"/srv/data/a.txt","head":10}',
      kind: 'tool',
      method: 'tools/call',
      path: 'read_file',
    });
    assert.equal(describeCall({ action: { method: 'tools/call', tool: 'get_time', arguments: {} } }).text, 'tools/call get_time');
  });

  it('redacts values under credential names, whole, at any depth', () => {
    const { text } = describeCall({
      action: {
        method: 'tools/call',
        tool: 'http_request',
        arguments: { url: 'https://api.example.com', headers: { Authorization: 'Basic dXNlcjpwYXNz', 'X-Api-Key': 'k-123456' }, password: 'hunter2', accessToken: 'abc', options: { client_secret: 's3cr3t', keywords: ['a'] } },
      },
    });
    assert.equal(
      text,
      'tools/call http_request {"url":"https://api.example.com","headers":{"Authorization":"[redacted]","X-Api-Key":"[redacted]"},"password":"[redacted]","accessToken":"[redacted]","options":{"client_secret":"[redacted]","keywords":["a"]}}',
    );
  });

  it('redacts what looks like a secret inside any string: bearer tokens, JWTs, private keys, password=, URL passwords', () => {
    const { text } = describeCall({
      action: {
        method: 'tools/call',
        tool: 'run_command',
        arguments: {
          command: `curl -H 'Authorization: Bearer abcdefghijklmnop' https://x && echo ${JWT} && PGPASSWORD=pw123 psql postgres://app:pa55w0rd@db/app`,
          note: PEM,
        },
      },
    });
    for (const secret of ['abcdefghijklmnop', JWT, 'pw123', 'pa55w0rd', 'MIIEow']) assert.equal(text.includes(secret), false, `${secret} in ${text}`);
    assert.match(text, /Bearer \[redacted\]/);
    assert.match(text, /postgres:\/\/app:\[redacted\]@db\/app/);
  });

  it('redacts the string literals of SQL arguments, keeping the statement readable', () => {
    const { text } = describeCall({ action: { method: 'tools/call', tool: 'query', arguments: { sql: "SELECT id FROM users WHERE email = 'ann@example.com' AND age > 30" } } });
    assert.equal(text, `tools/call query {"sql":"SELECT id FROM users WHERE email = '[redacted]' AND age > 30"}`);
  });

  it('names a resource read by its URI (secrets in it redacted) and a prompt with its arguments', () => {
    assert.deepEqual(describeCall({ action: { method: 'resources/read', uri: 'https://files.example.com/report?token=t0k3n&page=2' } }), {
      text: 'resources/read https://files.example.com/report?token=[redacted]&page=2',
      kind: 'resource',
      method: 'resources/read',
      path: 'https://files.example.com/report?token=[redacted]&page=2',
    });
    assert.deepEqual(describeCall({ action: { method: 'prompts/get', prompt: 'summarise', arguments: { topic: 'q3' } } }), {
      text: 'prompts/get summarise {"topic":"q3"}',
      kind: 'prompt',
      method: 'prompts/get',
      path: 'summarise',
    });
  });

  it('names a request the server sends the agent by its method only', () => {
    assert.deepEqual(describeCall({ action: { method: 'sampling/createMessage', direction: 'to_client' } }), {
      text: 'sampling/createMessage (server to client)',
      kind: 'sampling',
      method: 'sampling/createMessage',
    });
  });
});

describe('redactSqlLiterals', () => {
  it('redacts quoted, escaped and dollar-quoted literals, not identifiers, parameters or comments', () => {
    assert.equal(redactSqlLiterals(`select 'it''s', E'a\\'b', $$body$$, $fn$x$fn$, "col'x", $1 from t -- 'c'`), `select '[redacted]', E'[redacted]', $$[redacted]$$, $fn$[redacted]$fn$, "col'x", $1 from t -- 'c'`);
    assert.equal(redactSqlLiterals(`alter role app password 'hunter2`), `alter role app password '[redacted]'`);
    assert.equal(redactSqlLiterals(`select /* 'a' /* nested */ */ 'b'`), `select /* 'a' /* nested */ */ '[redacted]'`);
    assert.equal(redactSqlLiterals(`select x'ff', type'x'`), `select x'[redacted]', type'[redacted]'`);
  });
});
