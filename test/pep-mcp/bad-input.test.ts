// Bad input never reaches a server: malformed JSON, invalid UTF-8, duplicate member names,
// oversize messages, batches, wrong shapes, unknown methods and calls to unknown tools each get a
// JSON-RPC error from the gateway, and the tapped filesystem server behind it receives none of
// them (each case carries a marker the server's input is searched for).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { McpGateway } from '../support/mcp-gateway.ts';
import type { FilesystemServerFixture } from '../support/mcp-servers.ts';
import { RawSession, tappedLines, } from './raw-session.ts';
import { startTappedFilesGateway } from './tapped-files-gateway.ts';
import { auditBodyOf } from '@portcullis/pdp';

const MAX_MESSAGE_BYTES = 4096;

describe('bad input to the MCP gateway', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let log: string;
  let session: RawSession;

  before(async () => {
    ({ gateway, files, log } = await startTappedFilesGateway({ PORTCULLIS_PEP_MCP_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) }));
    session = new RawSession(gateway.pep.endpoint('files'), await gateway.token('agent-files', ['reader']));
    const opened = await session.open();
    assert.equal(opened.status, 200);
    assert.ok(session.sessionId);
  });
  after(async () => {
    await session?.close();
    await gateway?.close();
    files?.remove();
  });

  const cases: { name: string; body: string | Buffer; status: number; code: number; id?: number | null }[] = [
    { name: 'malformed JSON', body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"marker-malformed"', status: 400, code: -32700, id: null },
    { name: 'invalid UTF-8', body: Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"marker-utf8'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]), status: 400, code: -32700, id: null },
    {
      name: 'a member name twice in one object',
      body: '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read_text_file","arguments":{"path":"/etc/hostname","path":"/marker-duplicate"}}}',
      status: 400,
      code: -32600,
      id: 3,
    },
    { name: 'a name twice once escapes are read', body: '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"write_file","\\u006eame":"marker-escaped"}}', status: 400, code: -32600, id: 4 },
    { name: 'an oversize message', body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'marker-oversize', arguments: { padding: 'x'.repeat(MAX_MESSAGE_BYTES) } } }), status: 413, code: -32600 },
    { name: 'a batch', body: '[{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"marker-batch"}}]', status: 400, code: -32600, id: null },
    { name: 'a wrong jsonrpc version', body: '{"jsonrpc":"1.0","id":7,"method":"tools/call","params":{"name":"marker-version"}}', status: 400, code: -32600, id: 7 },
    { name: 'a null id', body: '{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"marker-null-id"}}', status: 400, code: -32600, id: null },
    { name: 'params that are not an object', body: '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":["marker-array-params"]}', status: 400, code: -32600, id: 9 },
    { name: 'a member a request does not have', body: '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"read_text_file"},"marker-extra":true}', status: 400, code: -32600, id: 10 },
    { name: 'a JSON value that is not an object', body: '"marker-string"', status: 400, code: -32600, id: null },
  ];

  for (const { name, body, status, code, id } of cases) {
    it(`answers ${name} with a JSON-RPC error (${code})`, async () => {
      const answer = await session.post(body);
      assert.equal(answer.status, status);
      assert.equal(answer.messages.length, 1);
      const [message] = answer.messages;
      assert.equal(message!.jsonrpc, '2.0');
      assert.equal(message!.error.code, code, JSON.stringify(message));
      if (id !== undefined) assert.equal(message!.id, id);
    });
  }

  it('answers an unknown method with -32601', async () => {
    const answer = await session.post('{"jsonrpc":"2.0","id":20,"method":"marker/unknown-method","params":{}}');
    assert.equal(answer.status, 200);
    assert.equal(answer.messages[0]!.id, 20);
    assert.equal(answer.messages[0]!.error.code, -32601);
  });

  it('answers a method outside the allow-list the server may well know with -32601 (tasks/list)', async () => {
    const answer = await session.post('{"jsonrpc":"2.0","id":21,"method":"tasks/list","params":{"marker":"marker-tasks"}}');
    assert.equal(answer.messages[0]!.error.code, -32601);
  });

  it('answers a call to a tool the server does not have with -32602', async () => {
    const answer = await session.post('{"jsonrpc":"2.0","id":22,"method":"tools/call","params":{"name":"marker-unknown-tool","arguments":{}}}');
    assert.equal(answer.messages[0]!.error.code, -32602);
    assert.match(answer.messages[0]!.error.message, /unknown tool/);
  });

  it('answers arguments that are not an object with -32602', async () => {
    const answer = await session.post('{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{"name":"read_text_file","arguments":"marker-string-arguments"}}');
    assert.equal(answer.messages[0]!.error.code, -32602);
  });

  it('answers a decided request carrying a member the decision does not cover with -32602 (a task to run it as)', async () => {
    const answer = await session.post(JSON.stringify({ jsonrpc: '2.0', id: 24, method: 'tools/call', params: { name: 'list_directory', arguments: { path: files.workspace }, task: { ttl: 60000, marker: 'marker-task' } } }));
    assert.equal(answer.messages[0]!.error.code, -32602);
    assert.match(answer.messages[0]!.error.message, /params\.task/);
  });

  it('drops a notification it does not pass on', async () => {
    const answer = await session.post('{"jsonrpc":"2.0","method":"notifications/marker-unknown"}');
    assert.equal(answer.status, 202);
  });

  it('refuses a request without a session, and with a session that does not exist', async () => {
    const stranger = new RawSession(gateway.pep.endpoint('files'), await gateway.token('agent-files', ['reader']));
    const without = await stranger.post('{"jsonrpc":"2.0","id":30,"method":"tools/list","params":{"marker":"marker-no-session"}}');
    assert.equal(without.status, 400);
    assert.equal(without.messages[0]!.error.code, -32600);
    stranger.sessionId = 'not-a-session';
    const unknown = await stranger.post('{"jsonrpc":"2.0","id":31,"method":"tools/list","params":{"marker":"marker-unknown-session"}}');
    assert.equal(unknown.status, 404);
  });

  it('sends the server the message as it was decided, written anew: not the bytes the agent sent', async () => {
    const sent = `{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"list_directory","arguments":{"\\u0070ath":${JSON.stringify(files.workspace)},"note":"caf\\u00e9"}}   }`;
    const answer = await session.post(sent);
    assert.equal(answer.messages[0]!.id, 41);
    const forwarded = tappedLines(log)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { method?: string; params?: { name?: string; arguments?: Record<string, unknown> } })
      .filter((message) => message.method === 'tools/call' && message.params?.arguments?.note !== undefined);
    assert.equal(forwarded.length, 1);
    assert.deepEqual(forwarded[0]!.params!.arguments, { path: files.workspace, note: 'café' });
    assert.doesNotMatch(tappedLines(log), /\\u0070ath|\\u00e9/, 'the escapes as sent never reached the server');
    // The decision record keeps the action as policy saw it (the OCSF event's portcullis part).
    const decided = (await gateway.pdp.auditEvents())
      .map((event) => (auditBodyOf(event) as { action?: { method?: string; arguments?: unknown } } | undefined)?.action)
      .filter((action) => action?.method === 'tools/call' && JSON.stringify(action.arguments).includes('café'));
    assert.equal(decided.length, 1);
    assert.deepEqual(decided[0]!.arguments, forwarded[0]!.params!.arguments, 'policy saw what the server got');
  });

  it('let none of them reach the server, while a good request does', async () => {
    const good = await session.post(JSON.stringify({ jsonrpc: '2.0', id: 40, method: 'tools/call', params: { name: 'list_directory', arguments: { path: files.workspace } } }));
    assert.equal(good.messages[0]!.id, 40);
    assert.equal(good.messages[0]!.result.isError, undefined, JSON.stringify(good.messages[0]));
    const reached = tappedLines(log);
    assert.match(reached, /"method":"initialize"/);
    assert.match(reached, /"name":"list_directory"/);
    assert.doesNotMatch(reached, /marker/);
  });
});
