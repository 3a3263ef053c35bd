// Keys on both sides of the SSH PEP: its own host key is created once and kept (clients pin its
// fingerprint); the upstream host's key is checked against the pinned known_hosts entry, so a
// changed or unknown key refuses before the PEP offers its credential; and the PEP starts only
// when the upstream account's shell is bash, the language the PDP's parser judged commands in.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPepSshConfig, startSshPep } from '@portcullis/pep-ssh';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('SSH PEP keys and the upstream shell', () => {
  let stack: SshPepStack;
  let reader: string;

  before(async () => {
    stack = await startSshPepStack();
    reader = await stack.token('agent-reader', ['reader']);
  });
  after(() => stack?.close());

  const startAnother = (overrides: Record<string, string> = {}) => {
    const env = { ...stack.pepEnvironment, ...overrides };
    return startSshPep(loadPepSshConfig(env), { env, log: () => undefined });
  };

  it('keeps its host key across restarts and reports the fingerprint ssh-keygen prints', async () => {
    const publicKeyFile = join(stack.pepEnvironment.PORTCULLIS_PEP_STATE_DIR!, 'ssh_host_ed25519_key.pub');
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile], { encoding: 'utf8' }).split(/\s+/)[1];
    assert.equal(stack.pep.hostKeyFingerprint, printed);
    assert.ok(stack.logs.some((line) => line.includes(`host key ${printed} (created now)`)));
    const again = await startAnother();
    try {
      assert.equal(again.hostKeyFingerprint, stack.pep.hostKeyFingerprint);
      assert.equal(again.hostPublicKey, stack.pep.hostPublicKey);
    } finally {
      await again.close();
    }
    // The client's pinned entry still matches.
    assert.equal((await stack.ssh(reader, 'echo pinned')).stdout, 'pinned\n');
  });

  it('refuses to start when the upstream host key is not pinned, and accept-new pins the first one seen', async () => {
    const empty = join(stack.clientDir, 'empty_known_hosts');
    writeFileSync(empty, '');
    await assert.rejects(startAnother({ PORTCULLIS_PEP_SSH_UPSTREAM_KNOWN_HOSTS: empty }), /not pinned in known_hosts/);
    const learning = await startAnother({ PORTCULLIS_PEP_SSH_UPSTREAM_KNOWN_HOSTS: empty, PORTCULLIS_PEP_SSH_UPSTREAM_HOST_KEY_CHECK: 'accept-new' });
    await learning.close();
    assert.equal(readFileSync(empty, 'utf8').trim(), stack.sshd.knownHostsLine());
  });

  it('matches a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const hashed = join(stack.clientDir, 'hashed_known_hosts');
    writeFileSync(hashed, `${stack.sshd.knownHostsLine()}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
    assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
    const pep = await startAnother({ PORTCULLIS_PEP_SSH_UPSTREAM_KNOWN_HOSTS: hashed });
    await pep.close();
  });

  it('refuses every command once the upstream host key changed, before its command reaches the host', async () => {
    await stack.sshd.rotateHostKey();
    const logins = (): number => stack.sshd.sshdLog.filter((line) => line.includes('Accepted publickey')).length;
    const loginsBefore = logins();
    const result = await stack.ssh(reader, 'echo after-the-key-changed');
    assert.equal(result.code, 69, result.stderr);
    assert.match(result.stderr, /not the pinned one: it changed/);
    assert.equal(result.stdout, '');
    assert.ok(!stack.sshd.commands().some((entry) => entry.command === 'echo after-the-key-changed'));
    assert.equal(logins(), loginsBefore, 'the PEP never logged in to the changed host');
    await assert.rejects(startAnother(), /not the pinned one: it changed/);
  });
});

describe('the upstream shell check', () => {
  it('refuses to start when the host runs commands with a shell other than bash', async () => {
    await assert.rejects(startSshPepStack({ commandShell: '/bin/dash' }), /the upstream account's shell is not bash/);
  });

  it('refuses to start when the host\'s shell reads commands in a character set other than UTF-8 or ASCII', async () => {
    // Under BIG5 (GBK, Shift_JIS…) a character's second byte can be a backslash, ; or a quote.
    for (const LANG of ['zh_TW.BIG5', 'zh_TW']) {
      await assert.rejects(startSshPepStack({ hostEnv: { LANG } }), /reads commands in the locale/, LANG);
    }
    const stack = await startSshPepStack({ hostEnv: { LANG: 'C.UTF-8' } });
    try {
      assert.equal((await stack.ssh(await stack.token('agent-reader', ['reader']), 'echo utf8-host')).stdout, 'utf8-host\n');
    } finally {
      await stack.close();
    }
  });
});
