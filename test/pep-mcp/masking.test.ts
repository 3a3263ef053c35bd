// Masked results through the MCP gateway, with the official SDK client as the agent and the
// reference filesystem server behind, under the calls test policy (approvals-test-policy.ts): a
// JSON file's rows masked by the obligations' paths in the text and in structuredContent, a text
// file's personal data by detectors, an image withheld, the gateway's own detectors for a
// principal that does not read in clear; the counts in the session record; and the hidden values
// nowhere else: not in session or audit records, the gateway's log or any notification. With the
// reference server with every feature behind (Streamable HTTP): prompt messages and resource
// contents masked the same way.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, stdioServerEntry, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareFilesystemServer, startEverythingServer, type EverythingServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { callsTestPolicyBundle } from './approvals-test-policy.ts';

const EMAILS = ['ann.lee@example.com', 'bo.chen@example.org'];
const CARDS = ['4111 1111 1111 1111', '5500 0000 0000 0004'];
const PHONE = '+44 20 7946 0958';
const OWNER = 'dana.ortiz@example.net';
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const HIDDEN = [...EMAILS, ...CARDS, PHONE, OWNER, PNG.toString('base64')];

type Block = { type: string; text?: string; data?: string };

describe('masked results through the MCP gateway', () => {
  let gateway: McpGateway;
  let files: FilesystemServerFixture;
  let root: string;
  let reader: Client;
  let clearReader: Client;
  const notifications: unknown[] = [];

  before(async () => {
    files = prepareFilesystemServer();
    root = files.workspace;
    const rows = [
      { id: 1, name: 'Ann Lee', email: EMAILS[0], card: CARDS[0] },
      { id: 2, name: 'Bo Chen', email: EMAILS[1], card: CARDS[1] },
    ];
    writeFileSync(join(root, 'customers.json'), `${JSON.stringify({ rows }, null, 2)}\n`);
    writeFileSync(join(root, 'notes.txt'), `Call Ann at ${EMAILS[0]} or ${PHONE} about order 1234.\n`);
    writeFileSync(join(root, 'owner.md'), `# Owner\nQuestions go to ${OWNER}.\n`);
    writeFileSync(join(root, 'photo.png'), PNG);
    gateway = await startMcpGateway({ servers: [stdioServerEntry('files', files.launch)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: callsTestPolicyBundle() } });
    reader = await gateway.connect('files', await gateway.token('agent-reader', ['reader']));
    clearReader = await gateway.connect('files', await gateway.token('agent-clear', ['clear-reader']));
    for (const client of [reader, clearReader]) client.fallbackNotificationHandler = async (notification) => void notifications.push(notification);
  });
  after(async () => {
    await gateway?.close();
    files?.remove();
  });

  const read = async (client: Client, file: string, tool = 'read_text_file') => {
    const result = await client.callTool({ name: tool, arguments: { path: join(root, file) } });
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    return result as { content: Block[]; structuredContent?: Record<string, unknown> };
  };

  it("masks a JSON file's rows by the paths, in the text and in structuredContent alike", async () => {
    const result = await read(reader, 'customers.json');
    const text = result.content[0]!.text!;
    const rows = (JSON.parse(text) as { rows: { name: string; email: string; card: string }[] }).rows;
    assert.deepEqual(
      rows.map((row) => [row.name, row.email, row.card]),
      [
        ['Ann Lee', '****', '**** **** **** 1111'],
        ['Bo Chen', '****', '**** **** **** 0004'],
      ],
    );
    assert.equal(result.structuredContent?.content, text, 'the file text the server repeats in structuredContent is masked the same way');
    assert.ok(text.endsWith('}\n') && text.includes('\n  "rows"'), 'written again as the server formatted it');
  });

  it('replaces what the detectors find in a text file, leaving the rest', async () => {
    for (const client of [reader, clearReader]) {
      const result = await read(client, 'notes.txt');
      assert.equal(result.content[0]!.text, 'Call Ann at **** or **** about order 1234.\n');
      assert.equal(result.structuredContent?.content, 'Call Ann at **** or **** about order 1234.\n');
    }
  });

  it("runs the gateway's own detectors for a principal policy does not let read personal data in clear", async () => {
    const masked = await read(reader, 'owner.md');
    assert.equal(masked.content[0]!.text, '# Owner\nQuestions go to <EMAIL_ADDRESS>.\n');
    const clear = await read(clearReader, 'owner.md');
    assert.equal(clear.content[0]!.text, `# Owner\nQuestions go to ${OWNER}.\n`);
  });

  it('withholds an image under mask obligations, wherever the server puts it', async () => {
    const result = await read(reader, 'photo.png', 'read_media_file');
    assert.equal(result.content[0]!.type, 'text');
    assert.match(result.content[0]!.text!, /image content withheld/);
    assert.equal(JSON.stringify(result).includes(PNG.toString('base64')), false);
  });

  it('counts the masked values in the session record, and the hidden values appear in no record, log or notification', async () => {
    const statements = await eventually('the masked reads are in the session record', async () => {
      const all = sessionStatementBodies(await gateway.pdp.auditEvents('sessions'));
      return all.filter((body) => body.statement.text.startsWith('tools/call ')).length >= 6 ? all : undefined;
    });
    const maskedOf = (file: string) => statements.filter((body) => body.statement.text.includes(file)).map((body) => body.masked_cells ?? 0);
    // Two e-mails and two cards, in the text and again in structuredContent.
    assert.deepEqual(maskedOf('customers.json'), [8]);
    // An e-mail and a phone number, in both places, for each reader.
    assert.deepEqual(maskedOf('notes.txt'), [4, 4]);
    // The gateway's own detectors for the reader; nothing for the clear reader.
    assert.deepEqual(maskedOf('owner.md').sort(), [0, 2]);
    // The image, in content and in structuredContent.
    assert.deepEqual(maskedOf('photo.png'), [2]);

    const everything = [
      JSON.stringify(await gateway.pdp.auditEvents('sessions')),
      JSON.stringify(await gateway.pdp.auditEvents('decisions')),
      gateway.logs.join('\n'),
      gateway.pdp.logs.join('\n'),
      JSON.stringify(notifications),
    ].join('\n');
    for (const value of HIDDEN) {
      // The clear reader was sent the owner's address in clear: it is in no record either.
      assert.equal(everything.includes(value), false, `${value.slice(0, 24)} appears in a record, log or notification`);
    }
  });
});

describe('masked prompts and resources through the MCP gateway', () => {
  let everything: EverythingServer;
  let gateway: McpGateway;
  let reader: Client;

  before(async () => {
    everything = await startEverythingServer();
    gateway = await startMcpGateway({ servers: [{ name: 'everything', http: { url: everything.url } }], pdpEnv: { PORTCULLIS_BUNDLE_FILE: callsTestPolicyBundle() } });
    reader = await gateway.connect('everything', await gateway.token('agent-reader', ['reader']));
  });
  after(async () => {
    await gateway?.close();
    await everything?.stop();
  });

  it("masks what detectors find in a prompt's messages", async () => {
    const prompt = await reader.getPrompt({ name: 'args-prompt', arguments: { city: EMAILS[0]!, state: PHONE } });
    assert.deepEqual(prompt.messages, [{ role: 'user', content: { type: 'text', text: "What's weather in ****, ****?" } }]);
  });

  it("scrubs a text resource's contents and withholds a blob resource's, keeping their URIs", async () => {
    type Contents = { uri: string; text?: string; blob?: string };
    const text = (await reader.readResource({ uri: 'demo://resource/dynamic/text/1' })).contents[0] as Contents;
    assert.equal(text.uri, 'demo://resource/dynamic/text/1');
    assert.match(String(text.text), /^Resource 1: This is a plaintext resource/);
    const blob = (await reader.readResource({ uri: 'demo://resource/dynamic/blob/1' })).contents[0] as Contents;
    assert.equal(blob.uri, 'demo://resource/dynamic/blob/1');
    assert.equal(blob.blob, undefined);
    assert.match(String(blob.text), /binary content withheld/);
    const statements = await eventually('the reads are in the session record', async () => {
      const reads = sessionStatementBodies(await gateway.pdp.auditEvents('sessions')).filter((body) => body.statement.text.startsWith('resources/read '));
      return reads.length >= 2 ? reads : undefined;
    });
    assert.deepEqual(statements.map((body) => [body.statement.text, body.masked_cells ?? 0]).sort(), [
      ['resources/read demo://resource/dynamic/blob/1', 1],
      ['resources/read demo://resource/dynamic/text/1', 0],
    ]);
  });
});
