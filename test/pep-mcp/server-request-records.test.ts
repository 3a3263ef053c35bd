// A request the server sends the agent (sampling, elicitation) is a command like any other: decided,
// and an entry in the session record under its own method. Their method names are longer than
// the HTTP and tool methods the record was first shaped for; an entry the PDP refused to file
// would take the rest of its batch with it, so the whole session's record is checked here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { eventually } from '../support/eventually.ts';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { type EverythingServer, startEverythingServer } from '../support/mcp-servers.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { starterPackWith, type PolicyVariant } from './starter-pack-variant.ts';
import { callText } from './tool-results.ts';

const SERVER = 'mcp-everything-asks';

describe('session records of requests the server sends the agent', () => {
  let everything: EverythingServer;
  let policy: PolicyVariant;
  let gateway: McpGateway;

  before(async () => {
    everything = await startEverythingServer();
    policy = starterPackWith({ [SERVER]: { environment: 'staging', rules: { to_client: { 'sampling/createMessage': true, 'elicitation/create': true } } } });
    gateway = await startMcpGateway({ servers: [{ name: SERVER, environment: 'staging', http: { url: everything.url } }], pdpEnv: { PORTCULLIS_POLICY_DIR: policy.dir } });
  });
  after(async () => {
    await gateway?.close();
    await everything?.stop();
    policy?.remove();
  });

  it('files sampling/createMessage and elicitation/create under their method, and the calls that asked for them', async () => {
    const agent = new Client({ name: 'portcullis-records-agent', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
    agent.setRequestHandler(CreateMessageRequestSchema, () => ({ model: 'stand-in-model', role: 'assistant', content: { type: 'text', text: 'sampled answer' } }));
    agent.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name: 'Ada Lovelace' } }));
    const token = await gateway.token('wendy-writer', ['writer']);
    await agent.connect(new StreamableHTTPClientTransport(new URL(gateway.pep.endpoint(SERVER)), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));

    const sampled = await agent.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'the weather', maxTokens: 20 } });
    assert.notEqual(sampled.isError, true, callText(sampled));
    const elicited = await agent.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    assert.notEqual(elicited.isError, true, callText(elicited));
    await gateway.disconnect(agent);

    const methods = await eventually('the four entries are on the record', async () => {
      const entries = sessionStatementBodies(await gateway.pdp.auditEvents('sessions')).filter((entry) => entry.protocol === 'mcp');
      const found = entries.map((entry) => (entry.statement as { method?: string }).method);
      return found.length >= 4 ? found : undefined;
    });
    assert.deepEqual([...methods].sort(), ['elicitation/create', 'sampling/createMessage', 'tools/call', 'tools/call']);
  });
});
