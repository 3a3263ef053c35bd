// The reference test server with every MCP feature (@modelcontextprotocol/server-everything, over
// Streamable HTTP on 127.0.0.1) behind the gateway, with the official SDK client as the agent. The
// same running server is two resources: mcp-everything as the starter pack ships it, and
// mcp-everything-strict, whose rules add only data (no sampling or elicitation toward the agent, a
// prompt and a URI prefix refused). What the server answers directly is the oracle for what an
// allowed request must return through the gateway, unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, type CreateMessageRequest, ElicitRequestSchema, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { connectHttpClient, type EverythingServer, startEverythingServer } from '../support/mcp-servers.ts';
import { starterPackWith, type PolicyVariant } from './starter-pack-variant.ts';
import { callText, rejection } from './tool-results.ts';

const OPEN = 'mcp-everything';
const STRICT = 'mcp-everything-strict';
// The gateway's JSON-RPC code for a request policy refused.
const REFUSED = -32010;

let everything: EverythingServer;
let policy: PolicyVariant;
let gateway: McpGateway;
let direct: Client;
let readerToken: string;
let writerToken: string;

before(async () => {
  everything = await startEverythingServer();
  policy = starterPackWith({
    [STRICT]: {
      environment: 'staging',
      rules: {
        to_client: { 'sampling/createMessage': false, 'elicitation/create': false },
        denied_prompts: ['args-prompt'],
        denied_uri_prefixes: ['demo://resource/dynamic/'],
      },
    },
  });
  gateway = await startMcpGateway({
    servers: [
      { name: OPEN, environment: 'staging', http: { url: everything.url } },
      { name: STRICT, environment: 'staging', http: { url: everything.url } },
    ],
    pdpEnv: { PORTCULLIS_POLICY_DIR: policy.dir },
  });
  direct = await connectHttpClient(everything.url);
  readerToken = await gateway.token('rhea-reader', ['reader']);
  writerToken = await gateway.token('wendy-writer', ['writer']);
});
after(async () => {
  await direct?.close();
  await gateway?.close();
  await everything?.stop();
  policy?.remove();
});

/** An agent that can be asked for sampling and elicitation, answering with what the test gives and counting each ask. */
async function agentWithHandlers(server: string, token: string): Promise<{ client: Client; sampled: CreateMessageRequest['params'][]; elicited: ElicitRequest['params'][] }> {
  const client = new Client({ name: 'portcullis-test-agent', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
  const sampled: CreateMessageRequest['params'][] = [];
  const elicited: ElicitRequest['params'][] = [];
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    sampled.push(request.params);
    return { model: 'stand-in-model', role: 'assistant', content: { type: 'text', text: 'the model says hello' } };
  });
  client.setRequestHandler(ElicitRequestSchema, (request) => {
    elicited.push(request.params);
    return { action: 'accept', content: { name: 'Ada Lovelace' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.pep.endpoint(server)), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return { client, sampled, elicited };
}

describe('tools', () => {
  test("a reader's list is the server's read-only tools, a writer's the server's whole list", async () => {
    const all = (await direct.listTools()).tools;
    const readOnly = all.filter((tool) => tool.annotations?.readOnlyHint === true && tool.annotations.destructiveHint !== true).map((tool) => tool.name).sort();
    assert.ok(readOnly.includes('echo') && readOnly.length < all.length, 'the server has read-only tools and others');
    const reader = await gateway.connect(OPEN, readerToken);
    const writer = await gateway.connect(OPEN, writerToken);
    assert.deepEqual((await reader.listTools()).tools.map((tool) => tool.name).sort(), readOnly);
    assert.deepEqual((await writer.listTools()).tools.map((tool) => tool.name).sort(), all.map((tool) => tool.name).sort());
    await gateway.disconnect(reader);
    await gateway.disconnect(writer);
  });

  test('an allowed call returns what the server returns directly, structured content included', async () => {
    const reader = await gateway.connect(OPEN, readerToken);
    assert.deepEqual(await reader.callTool({ name: 'echo', arguments: { message: 'through the gateway' } }), await direct.callTool({ name: 'echo', arguments: { message: 'through the gateway' } }));
    const viaGateway = await reader.callTool({ name: 'get-structured-content', arguments: { location: 'Chicago' } });
    const viaDirect = await direct.callTool({ name: 'get-structured-content', arguments: { location: 'Chicago' } });
    assert.deepEqual(viaGateway.structuredContent, viaDirect.structuredContent);
    assert.equal((viaGateway.structuredContent as { conditions?: unknown }).conditions !== undefined, true, JSON.stringify(viaGateway));
    await gateway.disconnect(reader);
  });

  test("a reader's call of a tool the server does not mark read-only is denied with policy's reason", async () => {
    const reader = await gateway.connect(OPEN, readerToken);
    const result = await reader.callTool({ name: 'toggle-simulated-logging', arguments: {} });
    assert.equal(result.isError, true);
    assert.match(callText(result), /denied by policy \(insufficient-role: no role of the principal grants write access on mcp-everything\)/);
    await gateway.disconnect(reader);
  });
});

describe('resources/read and prompts/get are decided', () => {
  test('a reader reads a resource and gets a prompt as the server gives them', async () => {
    const reader = await gateway.connect(OPEN, readerToken);
    const { resources } = await direct.listResources();
    const uri = resources.find((resource) => resource.uri.startsWith('demo://resource/static/document/'))!.uri;
    assert.deepEqual(await reader.readResource({ uri }), await direct.readResource({ uri }));
    assert.deepEqual(await reader.getPrompt({ name: 'simple-prompt' }), await direct.getPrompt({ name: 'simple-prompt' }));
    assert.deepEqual(await reader.getPrompt({ name: 'args-prompt', arguments: { city: 'Lyon' } }), await direct.getPrompt({ name: 'args-prompt', arguments: { city: 'Lyon' } }));
    await gateway.disconnect(reader);
  });

  test("a URI with dot segments is refused with policy's reason", async () => {
    const reader = await gateway.connect(OPEN, readerToken);
    const error = await rejection(reader.readResource({ uri: 'demo://resource/static/document/../../dynamic/text/1' }));
    assert.equal(error.code, REFUSED);
    assert.match(error.message, /mcp-resource-uri-unreadable/);
    await gateway.disconnect(reader);
  });

  test("the strict server's refused prefix and prompt are refused with policy's reasons; the open one serves them", async () => {
    const strict = await gateway.connect(STRICT, readerToken);
    const open = await gateway.connect(OPEN, readerToken);
    const uri = 'demo://resource/dynamic/text/1';
    const refusedRead = await rejection(strict.readResource({ uri }));
    assert.equal(refusedRead.code, REFUSED);
    assert.match(refusedRead.message, new RegExp(`mcp-resource-denied: ${uri} is not read through ${STRICT}`));
    assert.equal((await open.readResource({ uri })).contents[0]?.uri, uri);
    const refusedPrompt = await rejection(strict.getPrompt({ name: 'args-prompt', arguments: { city: 'Lyon' } }));
    assert.equal(refusedPrompt.code, REFUSED);
    assert.match(refusedPrompt.message, new RegExp(`mcp-prompt-denied: the prompt args-prompt of ${STRICT} is not offered`));
    assert.ok((await open.getPrompt({ name: 'args-prompt', arguments: { city: 'Lyon' } })).messages.length > 0);
    await gateway.disconnect(strict);
    await gateway.disconnect(open);
  });
});

describe('requests the server sends the agent pass only as policy allows', () => {
  test('sampling: the open server asks the agent, which answers; the strict server is refused and the agent never asked', async () => {
    const open = await agentWithHandlers(OPEN, writerToken);
    const result = await open.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'the weather', maxTokens: 20 } });
    assert.notEqual(result.isError, true, callText(result));
    assert.equal(open.sampled.length, 1);
    assert.match(JSON.stringify(open.sampled[0]!.messages), /the weather/);
    assert.match(callText(result), /the model says hello/);
    await gateway.disconnect(open.client);

    const strict = await agentWithHandlers(STRICT, writerToken);
    const refused = await strict.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'the weather', maxTokens: 20 } });
    assert.equal(refused.isError, true);
    assert.match(callText(refused), new RegExp(`mcp-server-request-refused: ${STRICT} may not send the agent sampling/createMessage`));
    assert.equal(strict.sampled.length, 0, 'the agent was never asked');
    await gateway.disconnect(strict.client);
  });

  test('elicitation: the open server asks the agent, which answers; the strict server is refused and the agent never asked', async () => {
    const open = await agentWithHandlers(OPEN, writerToken);
    const result = await open.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.notEqual(result.isError, true, callText(result));
    assert.equal(open.elicited.length, 1);
    assert.match(callText(result), /Ada Lovelace/);
    await gateway.disconnect(open.client);

    const strict = await agentWithHandlers(STRICT, writerToken);
    const refused = await strict.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.equal(refused.isError, true);
    assert.match(callText(refused), new RegExp(`mcp-server-request-refused: ${STRICT} may not send the agent elicitation/create`));
    assert.equal(strict.elicited.length, 0, 'the agent was never asked');
    await gateway.disconnect(strict.client);
  });
});
