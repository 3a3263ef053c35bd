// Adversary: what a hostile agent sends to get past the gateway's router. Each message carries a
// marker; the tapped filesystem server behind the gateway must receive none of them, and the
// session must still work afterwards (nothing the agent sends breaks the gateway for the next call).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { McpGateway } from '../support/mcp-gateway.ts';
import type { FilesystemServerFixture } from '../support/mcp-servers.ts';
import { RawSession, tappedLines, } from './raw-session.ts';
import { startTappedFilesGateway } from './tapped-files-gateway.ts';

describe('adversary: the router lets only its allow-list through', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let log: string;
  let session: RawSession;
  let nextId = 100;

  before(async () => {
    ({ gateway, files, log } = await startTappedFilesGateway());
    session = new RawSession(gateway.pep.endpoint('files'), await gateway.token('agent-adversary', ['reader']));
    assert.equal((await session.open()).status, 200);
  });
  after(async () => {
    await session?.close();
    await gateway?.close();
    files?.remove();
  });

  // M1: the allow-list was a plain object, so a method named after a member of every object's
  // prototype was "on" it; it fell to the decided branch, was decided as a resources/read of the
  // uri it carried, and reached the server under its own method name.
  for (const method of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', '__defineGetter__', 'isPrototypeOf']) {
    it(`answers the method "${method}" with -32601 and sends the server nothing`, async () => {
      const id = nextId++;
      const answer = await session.post(JSON.stringify({ jsonrpc: '2.0', id, method, params: { uri: `file://${files.workspace}/marker-proto-${method}`, name: 'list_directory' } }));
      assert.equal(answer.messages.length, 1, JSON.stringify(answer.messages));
      assert.equal(answer.messages[0]!.id, id);
      assert.equal(answer.messages[0]!.error?.code, -32601, JSON.stringify(answer.messages[0]));
    });
  }

  it('answers odd casings and padding of a decided method with -32601', async () => {
    for (const method of ['Tools/call', 'tools/call ', ' tools/call', 'tools/call\u0000', 'tools//call', 'TOOLS/CALL']) {
      const id = nextId++;
      const answer = await session.post(JSON.stringify({ jsonrpc: '2.0', id, method, params: { name: 'list_directory', arguments: { path: `${files.workspace}/marker-casing` } } }));
      assert.equal(answer.messages[0]!.error?.code, -32601, `${JSON.stringify(method)}: ${JSON.stringify(answer.messages[0])}`);
    }
  });

  it('treats a tool name that differs from a listed one only by case, spaces or normalisation as unknown', async () => {
    for (const name of ['List_directory', 'list_directory ', ' list_directory', 'list\u200bdirectory', 'ｌist_directory', 'list_directory\n']) {
      const id = nextId++;
      const answer = await session.post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { path: `${files.workspace}/marker-tool-name` } } }));
      assert.equal(answer.messages[0]!.error?.code, -32602, `${JSON.stringify(name)}: ${JSON.stringify(answer.messages[0])}`);
    }
  });

  it('drops a response the agent sends for a request nobody made', async () => {
    const answer = await session.post(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { marker: 'marker-stray-response' } }));
    assert.equal(answer.status, 202);
    const error = await session.post(JSON.stringify({ jsonrpc: '2.0', id: 2, error: { code: -1, message: 'marker-stray-error' } }));
    assert.equal(error.status, 202);
  });

  it('refuses ids that are not strings or integers (null, float, object, huge) before anything is sent', async () => {
    for (const id of ['null', '1.5', '{"a":1}', '[1]', '1e400', '9007199254740993', 'true']) {
      const answer = await session.post(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"list_directory","arguments":{"path":"${files.workspace}/marker-id"}}}`);
      assert.equal(answer.status, 400, `id ${id}: ${JSON.stringify(answer.messages)}`);
      assert.equal(answer.messages[0]!.error.code, -32600);
    }
  });

  it('refuses a member name twice at any depth and however it is escaped', async () => {
    const bodies = [
      `{"jsonrpc":"2.0","id":300,"method":"tools/call","params":{"name":"list_directory","arguments":{"path":"${files.workspace}","p\\u0061th":"/marker-dup-escaped"}}}`,
      `{"jsonrpc":"2.0","id":301,"method":"tools/call","params":{"name":"list_directory","arguments":{"path":"${files.workspace}","x":[{"a":1,"\\u0061":"marker-dup-deep"}]}}}`,
      `{"jsonrpc":"2.0","id":302,"method":"tools/call","params":{"name":"list_directory","arguments":{"path":"${files.workspace}","\\ud800":1,"\\udbff":"marker-dup-surrogate"}}}`,
      `{"jsonrpc":"2.0","id":303,"method":"tools/call","\\u0070arams":{"name":"marker-dup-top"},"params":{"name":"list_directory","arguments":{"path":"${files.workspace}"}}}`,
      `{"jsonrpc":"2.0","id":304,"method":"tools/call","params":{"name":"list_directory","arguments":{"path":"${files.workspace}","__proto__":{"path":"/"},"__proto__":{"path":"/marker-dup-proto"}}}}`,
    ];
    for (const body of bodies) {
      const answer = await session.post(body);
      assert.equal(answer.status, 400, body);
      assert.equal(answer.messages[0]!.error.code, -32600, body);
    }
  });

  it('answers a message nested deeper than any reader should follow with an error, and goes on', async () => {
    const depth = 100_000;
    const body = `{"jsonrpc":"2.0","id":400,"method":"tools/call","params":{"name":"list_directory","arguments":{"path":"${files.workspace}","deep":${'['.repeat(depth)}"marker-deep"${']'.repeat(depth)}}}}`;
    const answer = await session.post(body);
    // The PDP cannot read it either: whichever refuses first, it is an error and nothing is sent.
    assert.ok(answer.messages[0]?.error, JSON.stringify(answer.messages[0]).slice(0, 200));
  });

  // M3: the decided request was forwarded whole: params members and _meta entries policy never
  // saw (an alias of an argument, a task request, anything a server might read) went along.
  it('refuses a decided request carrying a params member its decision does not cover', async () => {
    for (const extra of [{ 'marker-extra': { path: '/' } }, { task: { ttl: 1, marker: 'marker-task' } }]) {
      const id = nextId++;
      const answer = await session.post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'list_directory', arguments: { path: files.workspace }, ...extra } }));
      assert.equal(answer.messages.at(-1)!.error?.code, -32602, JSON.stringify(answer.messages));
    }
  });

  it('forwards a decided request as decided: name, arguments and the progress token, no other _meta entry', async () => {
    const id = nextId++;
    const params = { name: 'list_directory', arguments: { path: files.workspace }, _meta: { progressToken: 'p-1', 'marker-meta': true } };
    const answer = await session.post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }));
    assert.equal(answer.messages.at(-1)!.id, id);
    assert.equal(answer.messages.at(-1)!.result?.isError, undefined, JSON.stringify(answer.messages));
    const sent = tappedLines(log)
      .split('\n')
      .filter((line) => line.includes('"tools/call"'))
      .map((line) => JSON.parse(line) as { params: unknown })
      .at(-1);
    assert.deepEqual(sent?.params, { name: 'list_directory', arguments: { path: files.workspace }, _meta: { progressToken: 'p-1' } });
  });

  it('let none of them reach the server, and the session still works', async () => {
    const good = await session.post(JSON.stringify({ jsonrpc: '2.0', id: 999, method: 'tools/call', params: { name: 'list_directory', arguments: { path: files.workspace } } }));
    assert.equal(good.messages[0]!.id, 999);
    assert.equal(good.messages[0]!.result?.isError, undefined, JSON.stringify(good.messages[0]));
    const reached = tappedLines(log);
    assert.match(reached, /"name":"list_directory"/);
    assert.doesNotMatch(reached, /marker/, reached.split('\n').filter((line) => line.includes('marker')).join('\n').slice(0, 2000));
  });
});
