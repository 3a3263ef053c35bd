// Adversary: what a principal may only see masked must not come back by another channel. The
// hostile server (hostile-server.mjs) holds a customer's address; policy data gives its resource
// the email detector, so a reader (no unmasked-pii) gets it masked in a tool result. The server
// then tries every other way to the agent: a log line sent just after the answer, a log line and
// resource names while answering a request the gateway does not decide (resources/list), and the
// text of requests it sends the agent (elicitation, sampling).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { starterPackWith, type PolicyVariant } from './starter-pack-variant.ts';
import { callText } from './tool-results.ts';

const HOSTILE = fileURLToPath(new URL('./hostile-server.mjs', import.meta.url));
const SERVER = 'mcp-hostile-pii';
const SECRET = 'ada.lovelace@example.com';

describe('adversary: masked data through channels other than the result', () => {
  let policy: PolicyVariant;
  let gateway: McpGateway;
  let agent: Client;
  const logs: string[] = [];
  const asked: string[] = [];

  before(async () => {
    policy = starterPackWith({
      [SERVER]: { environment: 'staging', rules: { detectors: ['email'], to_client: { 'elicitation/create': true, 'sampling/createMessage': true } } },
    });
    gateway = await startMcpGateway({
      servers: [{ name: SERVER, stdio: { command: process.execPath, args: [HOSTILE], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } } }],
      pdpEnv: { PORTCULLIS_POLICY_DIR: policy.dir },
    });
    agent = new Client({ name: 'portcullis-adversary-agent', version: '1.0.0' }, { capabilities: { elicitation: {}, sampling: {} } });
    agent.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void logs.push(JSON.stringify(notification.params.data)));
    agent.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(JSON.stringify(request.params));
      return { action: 'decline' };
    });
    agent.setRequestHandler(CreateMessageRequestSchema, (request) => {
      asked.push(JSON.stringify(request.params));
      return { role: 'assistant', model: 'none', content: { type: 'text', text: 'no' } };
    });
    const token = await gateway.token('rita-reader', ['reader']);
    await agent.connect(new StreamableHTTPClientTransport(new URL(gateway.pep.endpoint(SERVER)), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  });
  after(async () => {
    await agent?.close();
    await gateway?.close();
    policy?.remove();
  });

  it('masks the address in the tool result (the baseline)', async () => {
    const result = await agent.callTool({ name: 'lookup', arguments: {} });
    assert.notEqual(result.isError, true, callText(result));
    assert.match(callText(result), /customer: /);
    assert.doesNotMatch(callText(result), new RegExp(SECRET));
  });

  // M5: server notifications were masked only under the answers of calls still running.
  it('masks a log line the server sends once the call has been answered', async () => {
    const line = await eventually('the late log line', () => logs.find((log) => log.includes('looked up')));
    assert.doesNotMatch(line, new RegExp(SECRET));
  });

  it("masks what the server says while answering a request the gateway does not decide (resources/list)", async () => {
    const listed = await agent.listResources();
    assert.doesNotMatch(JSON.stringify(listed), new RegExp(SECRET));
    const line = await eventually('the log line sent while listing', () => logs.find((log) => log.includes('listing for')));
    assert.doesNotMatch(line, new RegExp(SECRET));
  });

  // M11: the server's instructions and its tools' descriptions passed as the server wrote them.
  it("masks the server's instructions and its tools' descriptions, and the tools stay callable by name", async () => {
    assert.doesNotMatch(agent.getInstructions() ?? '', new RegExp(SECRET));
    assert.match(agent.getInstructions() ?? '', /Ask me about/);
    const { tools } = await agent.listTools();
    assert.doesNotMatch(JSON.stringify(tools.map((tool) => [tool.title, tool.description])), new RegExp(SECRET));
    assert.ok(tools.some((tool) => tool.name === 'lookup'));
  });

  it('masks the text of requests the server sends the agent (elicitation, sampling)', async () => {
    for (const method of ['elicitation/create', 'sampling/createMessage']) {
      const result = await agent.callTool({ name: 'ask', arguments: { method } });
      assert.ok(asked.length > 0, `${method}: ${callText(result)}`);
    }
    for (const request of asked) assert.doesNotMatch(request, new RegExp(SECRET));
  });

  // M7: the server's request was decided (and so audited) with the text as the server wrote it.
  it('decides a request the server sends the agent as the agent is shown it: the audit trail holds no clear text either', async () => {
    const events = await eventually('the decisions of the requests sent to the agent', async () => {
      const all = (await gateway.pdp.auditEvents()) as { api?: { operation?: string } }[];
      const toAgent = all.filter((event) => event.api?.operation === 'elicitation/create' || event.api?.operation === 'sampling/createMessage');
      return toAgent.length >= 2 ? toAgent : undefined;
    });
    for (const event of events) assert.doesNotMatch(JSON.stringify(event), new RegExp(SECRET));
  });
});
