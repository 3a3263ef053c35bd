// Signals both ways through the SSH PEP, and its graceful shutdown (under a policy that allows
// every command, so the tests are about the relay): a command the host ends by a signal ends the
// client's channel with that signal; a signal the client sends reaches the host's command; and
// closing the PEP ends its client connections and resolves.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadPepSshConfig, startSshPep } from '@portcullis/pep-ssh';
import type { ClientChannel } from 'ssh2';
import { eventually } from '../support/eventually.ts';
import { execMaskPolicyBundle } from './exec-mask-policy.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('signals and shutdown at the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;

  before(async () => {
    stack = await startSshPepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: execMaskPolicyBundle() } });
    reader = await stack.token('agent-reader', ['reader']);
  });
  after(() => stack?.close());

  it('ends the client\'s channel with the signal that ended the command on the host', async () => {
    const client = await stack.client(reader);
    const result = await stack.exec(client, 'echo before; kill -TERM $$; echo never');
    assert.equal(result.code, null);
    assert.equal(result.signal, 'SIGTERM');
    assert.equal(result.stdout, 'before\n');
  });

  it('ends its client connections when it closes, and resolves', async () => {
    const env = { ...stack.pepEnvironment };
    const pep = await startSshPep(loadPepSshConfig(env), { env, log: () => undefined });
    const client = await stack.client(reader, { port: pep.port });
    const ended = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const channel = await new Promise<ClientChannel>((resolve, reject) => client.exec('sleep 30', (error, stream) => (error ? reject(error) : resolve(stream))));
    channel.resume();
    await eventually('the command runs on the host', () => stack.sshd.commands().some((entry) => entry.command === 'sleep 30'));
    assert.equal(pep.health().sessions, 1);
    await pep.close();
    await ended;
  });
});

// sshd refuses a client's signal to a forced command, so this host runs without the logging wrapper.
describe('a client\'s signal through the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;

  before(async () => {
    stack = await startSshPepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: execMaskPolicyBundle() }, logCommands: false });
    reader = await stack.token('agent-reader', ['reader']);
  });
  after(() => stack?.close());

  it('passes a signal the client sends on to the command on the host', async () => {
    const client = await stack.client(reader);
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      client.exec("trap 'echo got-INT; exit 42' INT; echo ready; while :; do sleep 0.1; done", (error, stream) => (error ? reject(error) : resolve(stream))),
    );
    let stdout = '';
    channel.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => channel.on('exit', (code: number | null) => resolve(code)));
    await eventually('the command is running', () => stdout.includes('ready'));
    channel.signal('INT');
    assert.equal(await exited, 42);
    assert.match(stdout, /got-INT/);
  });
});
