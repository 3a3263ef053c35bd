// What else a client can ask of an SSH session, through the PEP under the starter pack on web-1:
// environment variables outside the allow-list never reach the host (which would accept any);
// port forwarding is decided as `network` (people who may change the host may reach its loopback, agents
// never forward, a listener on production needs approval); X11 and agent forwarding are refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client, ClientChannel } from 'ssh2';
import { eventually } from '../support/eventually.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('session requests through the SSH PEP', () => {
  let stack: SshPepStack;
  let agent: string;
  let person: string;
  let personWriter: string;
  let approver: string;
  let echo: Server;
  let echoPort: number;

  before(async () => {
    stack = await startSshPepStack();
    agent = await stack.token('agent-reader', ['reader']);
    person = await stack.token('dana', ['reader'], 'human');
    personWriter = await stack.token('erin', ['writer'], 'human');
    approver = await stack.consoleToken('alice', ['approver']);
    // A service on the host's loopback (the test host is the SSH host).
    echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    echoPort = (echo.address() as { port: number }).port;
  });
  after(async () => {
    await stack?.close();
    echo?.close();
  });

  const forward = (client: Client, host: string, port: number): Promise<ClientChannel> =>
    new Promise((resolve, reject) => client.forwardOut('127.0.0.1', 50000, host, port, (error, channel) => (error ? reject(error) : resolve(channel))));

  it('passes allow-listed env requests and refuses BASH_ENV, LD_PRELOAD and PATH, which the host would have accepted', async () => {
    const command = 'echo "[${BASH_ENV-unset}][${LD_PRELOAD-unset}][$LANG][$PATH]"';
    const result = await stack.ssh(agent, command, { args: ['-o', 'SetEnv=BASH_ENV=/tmp/evil.sh LD_PRELOAD=/tmp/evil.so LANG=C.UTF-8 PATH=/tmp/evil'] });
    assert.equal(result.code, 0, result.stderr);
    const [bashEnv, preload, lang, path] = /^\[(.*)\]\[(.*)\]\[(.*)\]\[(.*)\]\n$/.exec(result.stdout)!.slice(1);
    assert.equal(bashEnv, 'unset');
    assert.equal(preload, 'unset');
    assert.equal(lang, 'C.UTF-8', 'an allow-listed variable passes');
    assert.notEqual(path, '/tmp/evil');
    for (const name of ['BASH_ENV', 'LD_PRELOAD', 'PATH']) assert.ok(stack.logs.some((line) => line.includes(`refused an env request: ${name} is not on the environment allow-list`)));
  });

  it('refuses an allow-listed name whose value is a path (ssh2 client)', async () => {
    const client = await stack.client(agent);
    const result = await stack.exec(client, 'echo "[${LC_ALL-unset}][${LANG-unset}]"', { env: { LC_ALL: '../../tmp/evil', LANG: 'C.UTF-8' } });
    assert.equal(result.stdout, '[unset][C.UTF-8]\n');
  });

  it('lets a person who may change the host forward to a service on its own loopback, and records the tunnel', async () => {
    const client = await stack.client(personWriter);
    const channel = await forward(client, '127.0.0.1', echoPort);
    const echoed = new Promise<string>((resolve) => {
      let text = '';
      channel.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.includes('\n')) resolve(text);
      });
    });
    channel.write('ping through the tunnel\n');
    assert.equal(await echoed, 'ping through the tunnel\n');
    channel.end();
    client.end();
    await eventually('the tunnel on the session record', async () =>
      (await stack.pdp.auditEvents('sessions')).some((record) => JSON.stringify(record).includes(`forward to 127.0.0.1:${echoPort}`)),
    );
  });

  it('refuses an agent any forwarding, and a reader one to the cloud metadata address or the host\'s loopback', async () => {
    const agentClient = await stack.client(agent);
    await assert.rejects(forward(agentClient, '127.0.0.1', echoPort), /prohibited|refused|failure/i);
    assert.ok(stack.logs.some((line) => line.includes('network-forwarding-by-agent')));
    const personClient = await stack.client(person);
    await assert.rejects(forward(personClient, '169.254.169.254', 80), /prohibited|refused|failure/i);
    // A reader gets no tunnel even to the host's loopback: it would go around that service's own PEP.
    await assert.rejects(forward(personClient, '127.0.0.1', echoPort), /prohibited|refused|failure/i);
    // The connection is still usable after a refused forward.
    assert.equal((await stack.exec(personClient, 'echo still-here')).stdout, 'still-here\n');
  });

  it('refuses a listener on production until it is approved, then opens it on the host and hands connections back', async () => {
    const client = await stack.client(personWriter);
    const listen = (): Promise<number> =>
      new Promise((resolve, reject) => client.forwardIn('127.0.0.1', 0, (error, port) => (error ? reject(error) : resolve(port))));
    await assert.rejects(listen());
    const pending = await eventually('the listener waiting for approval', async () => {
      const response = await fetch(`${stack.pdp.url}/v1/approvals`, { headers: { authorization: `Bearer ${approver}` } });
      const body = (await response.json()) as { pending: { id: string; action?: unknown; summary?: unknown }[] };
      return body.pending.find((approval) => JSON.stringify(approval).includes('inbound'))?.id;
    });
    const voted = await fetch(`${stack.pdp.url}/v1/approvals/${pending}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve', reason: 'debugging session' }),
    });
    assert.equal(voted.status, 200, await voted.text());
    client.on('tcp connection', (_details, accept) => {
      const channel = accept();
      channel.on('data', (chunk: Buffer) => channel.end(`pong:${chunk.toString('utf8')}`));
    });
    const port = await listen();
    assert.ok(port > 0);
    const { connect } = await import('node:net');
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('ping'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.equal(reply, 'pong:ping');
  });

  it('refuses X11 and agent forwarding, and says so in the PEP\'s log with the policy\'s reason', async () => {
    const client = await stack.client(person);
    await assert.rejects(
      new Promise<void>((resolve, reject) => client.exec('echo x11', { x11: true }, (error) => (error ? reject(error) : resolve()))),
      /X11/,
    );
    await eventually('the x11 refusal in the log', () => stack.logs.some((line) => line.includes('refused x11')));
    const agentDir = mkdtempSync(join(tmpdir(), 'portcullis-agent-'));
    const agentSocket = join(agentDir, 'agent.sock');
    const fakeAgent = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => fakeAgent.listen(agentSocket, () => resolve()));
    try {
      const forwarding = await stack.client(person, { agent: agentSocket, agentForward: true });
      await assert.rejects(
        new Promise<void>((resolve, reject) => forwarding.exec('echo agent', (error) => (error ? reject(error) : resolve()))),
        /agent forwarding/i,
      );
      await eventually('the agent refusal in the log', () => stack.logs.some((line) => line.includes('refused agent-forwarding')));
    } finally {
      fakeAgent.close();
      rmSync(agentDir, { recursive: true, force: true });
    }
  });
});
