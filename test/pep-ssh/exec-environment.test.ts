// Assignments that change what a command loads or runs, through the SSH PEP with the real OpenSSH
// client: however the text sets LD_PRELOAD, it is refused and never reaches the host; PATH and
// other variables that reach what runs make a reader's read-only command a change it may not
// make; harmless ones (the locale) keep it a read that runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('environment changes in exec through the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;
  let humanWriter: string;

  before(async () => {
    stack = await startSshPepStack();
    reader = await stack.token('agent-reader', ['reader']);
    humanWriter = await stack.token('human-writer', ['reader', 'writer'], 'human');
  });
  after(() => stack?.close());

  const hostExecs = (): string[] => stack.sshd.execs();

  it('refuses a code-injecting variable however it is written, and the host never sees it', async () => {
    const preload = '/tmp/portcullis-no-such.so';
    const forms = [
      `LD_PRELOAD=${preload} ls`,
      `env LD_PRELOAD=${preload} ls`,
      `export LD_PRELOAD=${preload}; ls`,
      `declare -x LD_PRELOAD=${preload}; ls`,
      `bash -c "LD_PRELOAD=${preload} ls"`,
      `nohup env GCONV_PATH=/tmp ls`,
      `BASH_ENV=/tmp/x bash -c true`,
      `read LD_PRELOAD <<< ${preload}; export LD_PRELOAD; ls`,
    ];
    for (const command of forms) {
      const result = await stack.ssh(humanWriter, command);
      assert.equal(result.code, 77, `${command}: ${result.stderr}`);
      assert.match(result.stderr, /shell-environment-code/, command);
      assert.equal(result.stdout, '');
    }
    // The host's log shows a command sent after them, and none of them.
    const marker = 'echo after-the-refused-ones';
    assert.equal((await stack.ssh(reader, marker)).code, 0);
    assert.equal(hostExecs().at(-1), marker);
    for (const command of forms) assert.ok(!hostExecs().includes(command), command);
  });

  it("makes PATH, PYTHONPATH and the like a change a reader may not make, never reaching the host", async () => {
    const forms = ['PATH=/tmp:$PATH ls', 'PATH=/tmp; ls', 'env -i ls', 'PYTHONPATH=/tmp ls', 'GIT_DIR=/tmp ls'];
    for (const command of forms) {
      const result = await stack.ssh(reader, command);
      assert.equal(result.code, 77, `${command}: ${result.stderr}`);
      assert.match(result.stderr, /insufficient-role/, command);
      assert.ok(!hostExecs().includes(command), command);
    }
  });

  it('keeps a read with a harmless variable a read: it runs on the host as judged', async () => {
    const command = 'LC_ALL=C ls / >/dev/null && f=/etc/hostname; cat "$f" >/dev/null; echo ran';
    const result = await stack.ssh(reader, command);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'ran\n');
    assert.equal(hostExecs().at(-1), command);
  });
});
