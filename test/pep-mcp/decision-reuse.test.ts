// Decision reuse through the MCP gateway, under the starter pack: a read-only call made again with
// the very same arguments in the same session stands on its first decision, and every call is
// still on the session record under it; other arguments, a write, and another session are each
// decided anew.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { type FilesystemServerFixture, prepareFilesystemServer } from '../support/mcp-servers.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { callText } from './tool-results.ts';

const SERVER = 'mcp-files';

describe('decision reuse through the MCP gateway', () => {
  let files: FilesystemServerFixture;
  let gateway: McpGateway;

  before(async () => {
    files = prepareFilesystemServer();
    writeFileSync(join(files.workspace, 'a.txt'), 'first file\n');
    writeFileSync(join(files.workspace, 'b.txt'), 'second file\n');
    gateway = await startMcpGateway({ servers: [{ name: SERVER, environment: 'staging', stdio: files.launch }] });
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  const decisionsAbout = async (needle: string, since: number): Promise<string[]> =>
    (await gateway.pdp.auditEvents('decisions'))
      .slice(since)
      .map((event) => JSON.stringify(event))
      .filter((event) => event.includes(needle));

  it('asks once for the same read-only call, records every call under that decision, and asks again for other arguments', async () => {
    const since = (await gateway.pdp.auditEvents('decisions')).length;
    const reader = await gateway.connect(SERVER, await gateway.token('rita-reuse', ['reader']));
    const a = join(files.workspace, 'a.txt');
    for (let call = 0; call < 3; call += 1) assert.equal(callText(await reader.callTool({ name: 'read_text_file', arguments: { path: a } })), 'first file\n');
    assert.equal(callText(await reader.callTool({ name: 'read_text_file', arguments: { path: join(files.workspace, 'b.txt') } })), 'second file\n');

    const decidedA = await decisionsAbout('a.txt', since);
    assert.equal(decidedA.length, 1, 'one decision for three identical calls');
    const reuse = (JSON.parse(decidedA[0]!) as { unmapped: { portcullis: { reuse?: { scope: string; expires_at: string } } } }).unmapped.portcullis.reuse;
    assert.equal(reuse?.scope, 'statement-shape', 'the decision record says it may be reused');
    assert.ok(Number.isFinite(Date.parse(reuse?.expires_at ?? '')), 'and until when');
    assert.equal((await decisionsAbout('b.txt', since)).length, 1, 'other arguments are decided on their own');

    const entries = await eventually('every call is on the session record', async () => {
      const mine = sessionStatementBodies(await gateway.pdp.auditEvents('sessions')).filter((body) => body.statement.text.startsWith('tools/call read_text_file') && body.statement.text.includes('a.txt'));
      return mine.length >= 3 ? mine : undefined;
    });
    assert.equal(entries.length, 3);
    assert.equal(new Set(entries.map((entry) => entry.decision_id)).size, 1, 'all three under the one decision');
    assert.equal(entries.filter((entry) => (entry as { decision_reused?: boolean }).decision_reused === true).length, 2, 'the two later ones marked as reused');
    await gateway.disconnect(reader);
  });

  it('decides a write every time, and the same read again in another session', async () => {
    const since = (await gateway.pdp.auditEvents('decisions')).length;
    const writer = await gateway.connect(SERVER, await gateway.token('walt-reuse', ['writer']));
    const target = join(files.workspace, 'written.txt');
    for (let call = 0; call < 2; call += 1) await writer.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    assert.equal((await decisionsAbout('written.txt', since)).length, 2, 'a write is decided each time');
    await gateway.disconnect(writer);

    const other = await gateway.connect(SERVER, await gateway.token('rita-reuse', ['reader']));
    await other.callTool({ name: 'read_text_file', arguments: { path: join(files.workspace, 'a.txt') } });
    assert.equal((await decisionsAbout('a.txt', since)).length, 1, 'a new session asks again');
    await gateway.disconnect(other);
  });
});
