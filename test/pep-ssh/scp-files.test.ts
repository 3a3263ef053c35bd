// scp through the SSH PEP: OpenSSH's scp (SFTP since OpenSSH 9) and `scp -O`, whose exec of
// `scp -t`/`scp -f` the PEP answers itself, doing each file step as a decided SFTP operation.
// No scp ever runs on the host (its exec log), and what policy refuses never reaches it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { scp } from './file-clients.ts';
import { fileTestPolicyBundle } from './file-test-policy.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('scp and scp -O through the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;
  let writer: string;
  let work: string;
  const local = join(tmpdir(), `portcullis-scp-${process.pid}`);

  before(async () => {
    stack = await startSshPepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: fileTestPolicyBundle() } });
    reader = await stack.token('agent-reader', ['reader']);
    writer = await stack.token('agent-writer', ['writer']);
    work = stack.sshd.workDir;
    mkdirSync(local, { recursive: true });
  });
  after(() => stack?.close());

  const hostChanges = (path: string): string[] =>
    stack.sshd.sftpLog().filter((line) => line.includes(`"${path}`) && /^(open|remove|rename|mkdir|rmdir|set|symlink)\b/.test(line) && !/flags READ mode/.test(line));
  const hostExecs = (): string[] => stack.sshd.execs();
  const entries = async (): Promise<string[]> => sessionStatementBodies(await stack.pdp.auditEvents('sessions')).map((body) => body.statement.text);

  it('copies a file up and back with scp (SFTP mode)', async () => {
    const source = join(local, 'up.bin');
    writeFileSync(source, Buffer.alloc(200 * 1024, 'abc'));
    const up = await scp(stack, writer, [source, `remote:${work}/up.bin`]);
    assert.equal(up.code, 0, up.stderr);
    assert.ok(readFileSync(join(work, 'up.bin')).equals(readFileSync(source)));
    const down = await scp(stack, reader, [`remote:${work}/up.bin`, join(local, 'down.bin')]);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(readFileSync(join(local, 'down.bin')).equals(readFileSync(source)));
  });

  it('copies a tree up with scp -O -r -p (times and modes kept) and back down, with no scp run on the host', async () => {
    const tree = join(local, 'tree');
    mkdirSync(join(tree, 'inner'), { recursive: true });
    writeFileSync(join(tree, 'one.txt'), 'one\n', { mode: 0o640 });
    writeFileSync(join(tree, 'inner', 'two.bin'), Buffer.alloc(150 * 1024, 7));
    utimesSync(join(tree, 'one.txt'), 1_600_000_000, 1_600_000_000);
    const up = await scp(stack, writer, ['-r', '-p', tree, `remote:${work}/`], { legacy: true });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(readFileSync(join(work, 'tree', 'one.txt'), 'utf8'), 'one\n');
    assert.ok(readFileSync(join(work, 'tree', 'inner', 'two.bin')).equals(readFileSync(join(tree, 'inner', 'two.bin'))));
    assert.equal(statSync(join(work, 'tree', 'one.txt')).mode & 0o777, 0o640);
    assert.equal(statSync(join(work, 'tree', 'one.txt')).mtimeMs, 1_600_000_000_000);

    const back = join(local, 'back');
    const down = await scp(stack, reader, ['-r', '-p', `remote:${work}/tree`, back], { legacy: true });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(readFileSync(join(back, 'one.txt'), 'utf8'), 'one\n');
    assert.ok(readFileSync(join(back, 'inner', 'two.bin')).equals(readFileSync(join(tree, 'inner', 'two.bin'))));
    assert.equal(statSync(join(back, 'one.txt')).mtimeMs, 1_600_000_000_000);

    assert.deepEqual(hostExecs().filter((command) => /\bscp\b/.test(command)), [], 'no scp ran on the host');
    const texts = await eventually('the legacy scp entries', async () => {
      const all = await entries();
      return all.includes(`scp read ${work}/tree/inner/two.bin`) && all;
    });
    for (const expected of [`scp mkdir ${work}/tree`, `scp write ${work}/tree/one.txt`, `scp setstat ${work}/tree/one.txt`, `scp write ${work}/tree/inner/two.bin`, `scp list ${work}/tree`]) {
      assert.ok(texts.includes(expected), `${expected} in ${texts.join(' | ')}`);
    }
  });

  it('refuses a reader\'s upload with scp -O and with scp: the client says why and the host never gets the file', async () => {
    const source = join(local, 'nope.txt');
    writeFileSync(source, 'never\n');
    for (const legacy of [true, false]) {
      const target = `${work}/nope-${legacy ? 'legacy' : 'sftp'}.txt`;
      const result = await scp(stack, reader, [source, `remote:${target}`], { legacy });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /portcullis: denied by policy \(file-read-only/);
      assert.ok(!existsSync(target));
      assert.deepEqual(hostChanges(target), []);
    }
  });

  it('refuses a forbidden file inside an allowed tree and copies the rest', async () => {
    const tree = join(local, 'mixed');
    mkdirSync(join(tree, 'forbidden'), { recursive: true });
    writeFileSync(join(tree, 'fine.txt'), 'fine\n');
    writeFileSync(join(tree, 'forbidden', 'secret.txt'), 'secret\n');
    const result = await scp(stack, writer, ['-r', tree, `remote:${work}/`], { legacy: true });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /forbidden: portcullis: denied by policy \(file-forbidden/);
    assert.equal(readFileSync(join(work, 'mixed', 'fine.txt'), 'utf8'), 'fine\n');
    assert.ok(!existsSync(join(work, 'mixed', 'forbidden')));
    assert.deepEqual(hostChanges(join(work, 'mixed', 'forbidden')), []);
  });

  it('will not send a host file whose name holds a line break over scp -O (it would read as a control line), and sends the rest', async () => {
    const tree = join(work, 'names');
    mkdirSync(tree);
    writeFileSync(join(tree, 'plain.txt'), 'plain\n');
    writeFileSync(join(tree, 'evil\nC0644 6 injected.txt'), 'evil\n');
    const back = join(local, 'names-back');
    const down = await scp(stack, reader, ['-r', `remote:${tree}`, back], { legacy: true });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /a name with a line break cannot be sent over scp/);
    assert.equal(readFileSync(join(back, 'plain.txt'), 'utf8'), 'plain\n');
    assert.ok(!existsSync(join(back, 'injected.txt')));
  });

  it('refuses server-mode scp commands it will not model, running nothing on the host', async () => {
    const client = await stack.client(writer);
    const before = hostExecs().length;
    for (const command of [`scp -f ${work}/up.bin; touch ${work}/pwned`, `scp -t $HOME/x`, `scp -f ${work}/*.bin`, 'scp -t -x /tmp/y', `scp -t ${work}/a ${work}/b`]) {
      const result = await stack.exec(client, command);
      assert.equal(result.code, 1, command);
      assert.match(result.stderr, /portcullis: refused: /, command);
    }
    assert.equal(hostExecs().length, before);
    assert.ok(!existsSync(join(work, 'pwned')));
    client.end();
  });
});
