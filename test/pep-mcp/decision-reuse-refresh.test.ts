// A refreshed token empties a session's decision reuse, including for a decision that was still
// on its way from the PDP when the token changed: that late allow, granted under the old token,
// never stands for a call made under the new one.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMcpGateway, stdioServerEntry, type McpGateway } from '../support/mcp-gateway.ts';
import { type FilesystemServerFixture, prepareFilesystemServer } from '../support/mcp-servers.ts';
import { heldDecisionsProxy, type HeldDecisionsProxy } from './held-decisions-proxy.ts';
import { RawSession } from './raw-session.ts';

const SERVER = 'mcp-files';

describe('decision reuse across a token refresh', () => {
  let files: FilesystemServerFixture;
  let proxy: HeldDecisionsProxy | undefined;
  let gateway: McpGateway;

  before(async () => {
    files = prepareFilesystemServer();
    writeFileSync(join(files.workspace, 'late.txt'), 'late answer\n');
    gateway = await startMcpGateway({
      servers: [stdioServerEntry(SERVER, files.launch, { environment: 'staging' })],
      pdpUrlFor: async (url) => (proxy = await heldDecisionsProxy(url)).url,
      // The held answer must not run into the PEP's deadline on a loaded machine.
      pepEnv: { PORTCULLIS_PEP_PDP_TIMEOUT_MS: '60000' },
    });
  });
  after(async () => {
    await gateway?.close();
    await proxy?.close();
    files?.remove();
  });

  const decisionsAbout = async (needle: string, since: number): Promise<number> =>
    (await gateway.pdp.auditEvents('decisions')).slice(since).filter((event) => JSON.stringify(event).includes(needle)).length;

  it('keeps an allow that arrives after the refresh out of the refreshed session\'s reuse', async () => {
    const since = (await gateway.pdp.auditEvents('decisions')).length;
    const first = await gateway.token('rita-refresh', ['reader']);
    const session = new RawSession(gateway.pep.endpoint(SERVER), first);
    assert.equal((await session.open()).status, 200);
    const read = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_text_file', arguments: { path: join(files.workspace, 'late.txt') } } });

    // The read's decision is asked under the first token; its answer is held back.
    const hold = proxy!.holdNext('late.txt');
    const late = session.post(read);
    await hold.held;
    // Meanwhile the agent refreshes its token (same principal): the session takes it.
    const refreshed = `Bearer ${await gateway.token('rita-refresh', ['reader'])}`;
    const ping = await session.post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }), { authorization: refreshed });
    assert.equal(ping.status, 200);
    assert.deepEqual(ping.messages[0]!.result, {});
    // The old token's answer arrives late; the read it was for runs.
    hold.release();
    assert.equal((await late).messages[0]!.result.content[0].text, 'late answer\n');

    // The same read under the new token is decided afresh.
    const again = await session.post(read.replace('"id":1', '"id":3'), { authorization: refreshed });
    assert.equal(again.messages[0]!.result.content[0].text, 'late answer\n');
    assert.equal(await decisionsAbout('late.txt', since), 2, 'the read under the refreshed token was decided, not served from the old token\'s allow');
    await session.close();
  });
});
