// The SSH PEP as its bin runs it: configured from the environment, it prints its host key's
// fingerprint for clients to pin, serves, and on SIGTERM ends its sessions and exits cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('the portcullis-pep-ssh process', () => {
  let stack: SshPepStack;

  before(async () => {
    stack = await startSshPepStack();
  });
  after(() => stack?.close());

  it('prints its fingerprint, serves the real ssh client, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'pep-agents/ssh/bin/pep-ssh.mjs')], {
      env: { ...process.env, ...stack.pepEnvironment, PORTCULLIS_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const fingerprint = await eventually('the fingerprint on stderr', () => /host key fingerprint (SHA256:\S+)/.exec(stderr)?.[1], { timeoutMs: 30_000 });
      assert.equal(fingerprint, stack.pep.hostKeyFingerprint, 'the same state folder, the same key');
      const port = Number(await eventually('the listening line', () => /"port":(\d+)/.exec(stderr)?.[1], { timeoutMs: 30_000 }));
      const reader = await stack.token('agent-reader', ['reader']);
      const ssh = stack.openSshArgs(reader);
      const portIndex = ssh.args.indexOf('-p') + 1;
      ssh.args[portIndex] = String(port);
      const knownHosts = join(stack.clientDir, 'process_known_hosts');
      writeFileSync(knownHosts, `[127.0.0.1]:${port} ${stack.pep.hostPublicKey}\n`);
      const args = ssh.args.map((arg) => (arg.startsWith('UserKnownHostsFile=') ? `UserKnownHostsFile=${knownHosts}` : arg));
      const output = await new Promise<string>((resolve) => {
        const client = spawn('ssh', [...args, ssh.destination, 'echo through-the-bin'], { env: ssh.env, stdio: ['ignore', 'pipe', 'ignore'] });
        let text = '';
        client.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        client.once('exit', () => resolve(text));
      });
      assert.equal(output, 'through-the-bin\n');
      assert.ok(!stderr.includes(reader), 'the token is never logged');
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
