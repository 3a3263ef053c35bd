// Commands whose text hides what they run, through the SSH PEP with the real OpenSSH client: text
// bash evaluates again (test -v 'a[$(cmd)]', $((x))), options a read-only command may not take
// (GNU abbreviations, bundles, a program to run), words xargs appends from standard input, and
// wrappers that run their operands. Each is refused and never reaches the host; the reads they
// imitate still run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('shell hardening through the SSH PEP', () => {
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

  async function refused(token: string, command: string, reason: RegExp, input = ''): Promise<void> {
    const result = await stack.ssh(token, command, { input });
    assert.equal(result.code, 77, `${command}: ${result.stderr}`);
    assert.match(result.stderr, reason, command);
    assert.equal(result.stdout, '', command);
  }

  it('refuses text bash would evaluate as arithmetic or a name, for readers and writers alike', async () => {
    const forms = [
      "test -v 'a[$(id >&2)]'",
      "ls; [[ 'a[$(id >&2)]' -eq 1 ]]",
      "[[ -v 'a[`id >&2`]' ]] && ls",
      "x='a[$(id >&2)]'; echo $((x))",
      "printf -v 'a[$(id >&2)]' x",
      'read x; echo $((x))',
    ];
    for (const command of forms) {
      await refused(reader, command, /shell-evaluated-text-code/, 'a[$(id >&2)]\n');
      await refused(humanWriter, command, /shell-evaluated-text-code/, 'a[$(id >&2)]\n');
    }
    const marker = 'echo after-the-evaluated-ones';
    assert.equal((await stack.ssh(reader, marker)).code, 0);
    assert.equal(hostExecs().at(-1), marker);
    for (const command of forms) assert.ok(!hostExecs().includes(command), command);
  });

  it('makes options a read-only command may not take, and what xargs runs, a change a reader may not make', async () => {
    const forms = [
      'sort -S 1K --compress-program=sh',
      'sort --o=/tmp/portcullis-sort-out /etc/hostname',
      'date --se=2020-01-01',
      'date -us 2020-01-01',
      'systemctl --host=evil status',
      'systemctl -p status restart ssh',
      'journalctl --cursor-file=/tmp/portcullis-cursor -n1',
      'xargs find . -maxdepth 0',
      'xargs sort',
    ];
    for (const command of forms) await refused(reader, command, /insufficient-role/, "-exec sh -c 'id >&2' ;\n");
    for (const command of forms) assert.ok(!hostExecs().includes(command), command);
  });

  it('judges what a wrapper runs: a command denied to everyone stays denied behind flock, taskset, script -c …', async () => {
    const forms = ['flock /tmp/portcullis-lock rm -rf /', 'taskset 1 rm -rf /', "script -qc 'rm -rf /' /dev/null", 'systemd-run rm -rf /'];
    for (const command of forms) await refused(humanWriter, command, /shell-recursive-rm-of-system-path|shell-dynamic-command-name/);
    for (const command of forms) assert.ok(!hostExecs().includes(command), command);
  });

  it('keeps reads with listed options reads: they run on the host as judged', async () => {
    const command = 'sort -rn -k1,1 /etc/hostname >/dev/null && date -u +%F >/dev/null && for i in 1 2; do echo $((i * 2)); done';
    const result = await stack.ssh(reader, command);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '2\n4\n');
    assert.equal(hostExecs().at(-1), command);
  });
});
