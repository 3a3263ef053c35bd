// The test sshd itself: the real ssh client logs in by key, and every exec and SFTP session shows
// in the host-side log exactly as sent; a changed host key is what a pinned client then sees.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { runSsh, startTestSshd, type TestSshd } from './sshd-server.ts';

let sshd: TestSshd;
let clientDir: string;

before(async () => {
  sshd = await startTestSshd();
  clientDir = mkdtempSync(join(tmpdir(), 'portcullis-ssh-client-'));
  writeFileSync(join(clientDir, 'known_hosts'), `${sshd.knownHostsLine()}\n`);
});
after(async () => {
  await sshd?.stop();
  rmSync(clientDir, { recursive: true, force: true });
});

function sshArgs(command: string): string[] {
  return [
    '-F', 'none', '-p', String(sshd.port), '-i', sshd.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${join(clientDir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
    `${sshd.user}@127.0.0.1`, command,
  ];
}

test('an exec reaches the host and is logged there byte for byte before it runs', async () => {
  const command = `printf '%s\\n' "it's $((6 * 7))"; echo "ünïcode" >&2; exit 3`;
  const result = await runSsh(sshArgs(command));
  assert.equal(result.code, 3);
  assert.equal(result.stdout, "it's 42\n");
  assert.match(result.stderr, /ünïcode/);
  assert.deepEqual(sshd.commands().at(-1), { kind: 'exec', command });
});

test('an SFTP session is logged as such, with each file operation in the sftp log', async () => {
  const target = join(sshd.workDir, 'made-by-sftp');
  const result = await runSftp(`mkdir ${target}\n`);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(existsSync(target));
  assert.equal(sshd.commands().at(-1)?.kind, 'sftp');
  assert.ok(sshd.sftpLog().some((line) => line.includes('mkdir') && line.includes(target)), sshd.sftpLog().join('\n'));
});

test('with the host key changed, a client pinning the old one refuses to connect', async () => {
  const before = sshd.hostKeyFingerprint();
  await sshd.rotateHostKey();
  assert.notEqual(sshd.hostKeyFingerprint(), before);
  const result = await runSsh(sshArgs('true'));
  assert.equal(result.code, 255);
  assert.match(result.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
});

function runSftp(batch: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const args = [
      '-F', 'none', '-P', String(sshd.port), '-i', sshd.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${join(clientDir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-b', '-', `${sshd.user}@127.0.0.1`,
    ];
    const child = execFile('sftp', args, { timeout: 60_000 }, (error, _stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
    child.stdin!.end(batch);
  });
}
