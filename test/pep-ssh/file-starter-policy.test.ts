// File operations on web-1 (production) under the starter pack, through the SSH PEP: readers
// read, a writer's change is held for approval (its notice on stderr, nothing on the host while
// held) and done once approved, a denied approval leaves the host untouched, and secret files
// are refused to everyone.
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { sftpBatch } from './file-clients.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('file operations on production under the starter pack', () => {
  let stack: SshPepStack;
  let reader: string;
  let writer: string;
  let approver: string;
  let work: string;
  const local = join(tmpdir(), `portcullis-file-starter-${process.pid}`);

  before(async () => {
    stack = await startSshPepStack();
    reader = await stack.token('agent-reader', ['reader']);
    writer = await stack.token('agent-writer', ['writer']);
    approver = await stack.consoleToken('alice', ['approver']);
    work = stack.sshd.workDir;
    mkdirSync(local, { recursive: true });
  });
  after(() => stack?.close());

  const vote = async (approvalId: string, verdict: 'approve' | 'deny', reason: string): Promise<void> => {
    const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict, reason }),
    });
    assert.equal(response.status, 200, await response.text());
  };
  const hostOpensForWrite = (path: string): string[] => stack.sshd.sftpLog().filter((line) => line.startsWith(`open "${path}"`) && line.includes('WRITE'));

  /** A client started through the PEP, its stderr collected as it comes. */
  const started = (program: 'sftp' | 'scp', args: readonly string[], input = ''): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } => {
    const ssh = stack.openSshArgs(writer, { portFlag: '-P' });
    const child = execFile(program, [...ssh.args, ...args.map((arg) => arg.replace('remote:', `${ssh.destination}:`))], { env: ssh.env });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer | string) => (stderr += chunk.toString()));
    child.stdin!.end(input);
    return { child, stderr: () => stderr, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  };

  it('lets a reader read and list, and refuses the reader a change', async () => {
    writeFileSync(join(work, 'notes.txt'), 'notes\n');
    const result = await sftpBatch(stack, reader, [`ls ${work}`, `get ${work}/notes.txt ${local}/notes.txt`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(join(local, 'notes.txt'), 'utf8'), 'notes\n');
    const change = await sftpBatch(stack, reader, [`rm ${work}/notes.txt`]);
    assert.notEqual(change.code, 0);
    assert.match(change.stderr, /portcullis: denied by policy/);
    assert.ok(existsSync(join(work, 'notes.txt')));
  });

  it('holds a writer\'s sftp upload for approval, writes nothing while held, and uploads once approved', async () => {
    const source = join(local, 'release.txt');
    writeFileSync(source, 'release 42\n');
    const target = `${work}/release.txt`;
    const sftp = started('sftp', ['-o', 'BatchMode=no', '-b', '-', stack.openSshArgs(writer).destination], `put ${source} ${target}\n`);
    const approvalId = await eventually('the approval notice on the sftp channel', () => /approval ([0-9a-f-]{36})/.exec(sftp.stderr())?.[1]);
    assert.deepEqual(hostOpensForWrite(target), [], 'nothing written while held');
    await vote(approvalId, 'approve', 'release ticket');
    assert.equal(await sftp.exited, 0, sftp.stderr());
    assert.equal(readFileSync(target, 'utf8'), 'release 42\n');
  });

  it('leaves the host untouched when the approver denies a held scp -O upload', async () => {
    const source = join(local, 'hotfix.txt');
    writeFileSync(source, 'hotfix\n');
    const target = `${work}/hotfix.txt`;
    const scp = started('scp', ['-O', source, `remote:${target}`]);
    const approvalId = await eventually('the approval notice on the exec channel', () => /approval ([0-9a-f-]{36})/.exec(scp.stderr())?.[1]);
    await vote(approvalId, 'deny', 'not during the freeze');
    assert.equal(await scp.exited, 1);
    assert.match(scp.stderr(), /approval-denied/);
    assert.ok(!existsSync(target));
    assert.deepEqual(hostOpensForWrite(target), []);
  });

  it('does a held removal once when a client that gave up runs it again after approval, and holds the next one anew', async () => {
    const target = `${work}/old-release.txt`;
    writeFileSync(target, 'old\n');
    const first = started('sftp', ['-o', 'BatchMode=no', '-b', '-', stack.openSshArgs(writer).destination], `rm ${target}\n`);
    const approvalId = await eventually('the approval notice', () => /approval ([0-9a-f-]{36})/.exec(first.stderr())?.[1]);
    // The client gives up; the approval stays, bound to exactly this removal.
    first.child.kill('SIGTERM');
    await first.exited;
    assert.ok(existsSync(target));
    await vote(approvalId, 'approve', 'cleanup ticket');
    const rerun = await sftpBatch(stack, writer, [`rm ${target}`]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.ok(!existsSync(target));
    // Approved once, done once: the same removal again is held for a new approval.
    writeFileSync(target, 'recreated\n');
    const again = started('sftp', ['-o', 'BatchMode=no', '-b', '-', stack.openSshArgs(writer).destination], `rm ${target}\n`);
    const next = await eventually('a new approval for the second removal', () => /approval ([0-9a-f-]{36})/.exec(again.stderr())?.[1]);
    assert.notEqual(next, approvalId);
    again.child.kill('SIGTERM');
    await again.exited;
    assert.ok(existsSync(target));
  });

  it('refuses every principal a secret file, however it is named', async () => {
    for (const path of ['/etc/shadow', '/etc/./shadow', `${work}/../../../etc/shadow`]) {
      const result = await sftpBatch(stack, writer, [`get ${path} ${local}/shadow`]);
      assert.notEqual(result.code, 0, path);
      assert.match(result.stderr, /file-secret-path/, path);
    }
    assert.ok(!existsSync(join(local, 'shadow')));
    assert.ok(!stack.sshd.sftpLog().some((line) => line.includes('/etc/shadow')));
  });
});
