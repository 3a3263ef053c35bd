// SFTP through the SSH PEP with OpenSSH's sftp: every request a `file` decision on the path the
// host is sent; what policy refuses never reaches the host (its sftp-server log and its files
// say so); each file operation is a session entry.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { sftpBatch } from './file-clients.ts';
import { fileTestPolicyBundle } from './file-test-policy.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('SFTP through the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;
  let writer: string;
  let work: string;
  const local = join(tmpdir(), `portcullis-sftp-${process.pid}`);

  before(async () => {
    stack = await startSshPepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: fileTestPolicyBundle() } });
    reader = await stack.token('agent-reader', ['reader']);
    writer = await stack.token('agent-writer', ['writer']);
    work = stack.sshd.workDir;
    mkdirSync(local, { recursive: true });
  });
  after(() => stack?.close());

  const hostLogMentions = (path: string): string[] => stack.sshd.sftpLog().filter((line) => line.includes(`"${path}"`));
  /** What sftp-server logged doing to `path` beyond looking at it (stat, realpath). */
  const hostChanges = (path: string): string[] => hostLogMentions(path).filter((line) => /^(open|remove|rename|mkdir|rmdir|set|symlink|posix-rename|hardlink)\b/.test(line));

  it('puts, lists, gets, renames, links, chmods and removes files with a writer\'s token, each on the host as sent', async () => {
    const source = join(local, 'upload.txt');
    writeFileSync(source, 'hello from the client\n');
    const empty = join(local, 'empty.txt');
    writeFileSync(empty, '');
    const result = await sftpBatch(stack, writer, [
      `cd ${work}`,
      'mkdir dir',
      `put ${source} dir/a.txt`,
      'ls -l dir',
      `get dir/a.txt ${join(local, 'back.txt')}`,
      'rename dir/a.txt dir/b.txt',
      'ln -s b.txt dir/link',
      'chmod 600 dir/b.txt',
      `put ${empty} dir/gone.txt`,
      'rm dir/gone.txt',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /a\.txt/);
    assert.equal(readFileSync(join(local, 'back.txt'), 'utf8'), 'hello from the client\n');
    assert.equal(readFileSync(join(work, 'dir/b.txt'), 'utf8'), 'hello from the client\n');
    assert.equal(statSync(join(work, 'dir/b.txt')).mode & 0o777, 0o600);
    assert.equal(readlinkSync(join(work, 'dir/link')), 'b.txt');
    assert.ok(!existsSync(join(work, 'dir/gone.txt')));
    assert.ok(hostLogMentions(join(work, 'dir/a.txt')).some((line) => line.includes('open')), stack.sshd.sftpLog().join('\n'));

    const entries = await eventually('the session entries of the file operations', async () => {
      const texts = sessionStatementBodies(await stack.pdp.auditEvents('sessions')).map((body) => body.statement.text);
      return texts.includes(`sftp rename ${join(work, 'dir/a.txt')} -> ${join(work, 'dir/b.txt')}`) && texts.includes(`sftp remove ${join(work, 'dir/gone.txt')}`) && texts;
    });
    for (const expected of [`sftp mkdir ${join(work, 'dir')}`, `sftp write ${join(work, 'dir/a.txt')}`, `sftp read ${join(work, 'dir/a.txt')}`, `sftp list ${join(work, 'dir')}`, `sftp symlink ${join(work, 'dir/link')} -> b.txt`, `sftp setstat ${join(work, 'dir/b.txt')}`]) {
      assert.ok(entries.includes(expected), `${expected} in ${entries.join(' | ')}`);
    }
  });

  it('refuses a reader\'s upload, removal and rename: nothing of them reaches the host', async () => {
    writeFileSync(join(work, 'keep.txt'), 'kept\n');
    const source = join(local, 'reader-upload.txt');
    writeFileSync(source, 'should never arrive\n');
    for (const command of [`put ${source} ${work}/reader.txt`, `rm ${work}/keep.txt`, `rename ${work}/keep.txt ${work}/moved.txt`, `mkdir ${work}/reader-dir`]) {
      const result = await sftpBatch(stack, reader, [command]);
      assert.notEqual(result.code, 0, `${command}: ${result.stdout}`);
      assert.match(result.stderr, /portcullis: denied by policy \(file-read-only/, command);
    }
    assert.ok(!existsSync(join(work, 'reader.txt')));
    assert.ok(!existsSync(join(work, 'moved.txt')));
    assert.ok(!existsSync(join(work, 'reader-dir')));
    assert.equal(readFileSync(join(work, 'keep.txt'), 'utf8'), 'kept\n');
    for (const path of ['reader.txt', 'moved.txt', 'reader-dir', 'keep.txt']) assert.deepEqual(hostChanges(join(work, path)), []);
  });
});
