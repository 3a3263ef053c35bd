// Adversary: an agent that opens sessions until the gateway has none left. Each session starts a
// server process, so the table's bound is the gateway's bound on processes too: it must hold
// against initializes sent all at once, and one principal must not take every seat.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';
import { RawSession } from './raw-session.ts';

const HOSTILE = fileURLToPath(new URL('./hostile-server.mjs', import.meta.url));
const MAX_SESSIONS = 4;
const PER_PRINCIPAL = 2;

describe('adversary: the session table stays bounded', () => {
  let gateway: McpGateway;
  const opened: RawSession[] = [];

  before(async () => {
    gateway = await startMcpGateway({
      servers: [{ name: 'hostile', stdio: { command: process.execPath, args: [HOSTILE], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } } }],
      pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() },
      pepEnv: { PORTCULLIS_PEP_MCP_MAX_SESSIONS: String(MAX_SESSIONS), PORTCULLIS_PEP_MCP_MAX_SESSIONS_PER_PRINCIPAL: String(PER_PRINCIPAL) },
    });
  });
  after(async () => {
    await Promise.all(opened.map((session) => session.close()));
    await gateway?.close();
  });

  async function closeAll(): Promise<void> {
    await Promise.all(opened.splice(0).map((session) => session.close()));
    assert.equal(gateway.pep.health().sessions, 0);
  }

  // M8: the limit was checked before the connect decision was awaited, so initializes sent together all passed it.
  it('holds the limit against initializes of many principals sent at once', async () => {
    const sessions = await Promise.all(Array.from({ length: 3 * MAX_SESSIONS }, async (_, index) => new RawSession(gateway.pep.endpoint('hostile'), await gateway.token(`agent-${index}`, ['reader']))));
    const answers = await Promise.all(sessions.map((session) => session.open()));
    opened.push(...sessions.filter((session) => session.sessionId !== undefined));
    try {
      const statuses = answers.map((answer) => answer.status);
      assert.equal(statuses.filter((status) => status === 200).length, MAX_SESSIONS, statuses.join(' '));
      assert.ok(gateway.pep.health().sessions <= MAX_SESSIONS, `${gateway.pep.health().sessions} sessions open`);
    } finally {
      await closeAll();
    }
  });

  it('keeps seats for other principals: one principal holds at most its share', async () => {
    const token = await gateway.token('agent-greedy', ['reader']);
    const greedy = Array.from({ length: MAX_SESSIONS }, () => new RawSession(gateway.pep.endpoint('hostile'), token));
    const answers = await Promise.all(greedy.map((session) => session.open()));
    opened.push(...greedy.filter((session) => session.sessionId !== undefined));
    try {
      assert.equal(answers.filter((answer) => answer.status === 200).length, PER_PRINCIPAL, answers.map((answer) => answer.status).join(' '));
      assert.ok(answers.some((answer) => answer.status === 429));
      const other = new RawSession(gateway.pep.endpoint('hostile'), await gateway.token('agent-modest', ['reader']));
      opened.push(other);
      assert.equal((await other.open()).status, 200);
    } finally {
      await closeAll();
    }
  });
});
