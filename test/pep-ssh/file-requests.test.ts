// SFTP requests one by one through the SSH PEP with the ssh2 client, for what OpenSSH's tools
// never send: handles used for what they were not opened for or never given out, extensions,
// paths with NUL or `..`, and a PDP that goes away. Each refusal is proven on the host's side.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client, SFTPWrapper } from 'ssh2';
import { eventually } from '../support/eventually.ts';
import { fileTestPolicyBundle } from './file-test-policy.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

const PERMISSION_DENIED = 3;
const FAILURE = 4;
const OP_UNSUPPORTED = 8;

type SftpError = Error & { code?: number };

function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))));
}

/** The error a callback-style SFTP call ends with (undefined: it succeeded), and its value. */
function outcome<T>(start: (done: (error: SftpError | undefined | null, value?: T) => void) => void): Promise<{ error: SftpError | undefined; value: T | undefined }> {
  return new Promise((resolve) => start((error, value) => resolve({ error: error ?? undefined, value })));
}

describe('SFTP requests through the SSH PEP (ssh2 client)', () => {
  let stack: SshPepStack;
  let writer: string;
  let client: Client;
  let sftp: SFTPWrapper;
  let work: string;

  before(async () => {
    stack = await startSshPepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: fileTestPolicyBundle() } });
    writer = await stack.token('agent-writer', ['writer']);
    work = stack.sshd.workDir;
    writeFileSync(join(work, 'data.txt'), 'some data\n');
    client = await stack.client(writer);
    sftp = await openSftp(client);
  });
  after(() => stack?.close());

  const hostLog = (): string[] => stack.sshd.sftpLog();

  it('refuses a WRITE on a handle opened to read, and a READ on one opened to write; the host file is untouched', async () => {
    const reading = await outcome<Buffer>((done) => sftp.open(join(work, 'data.txt'), 'r', done));
    assert.equal(reading.error, undefined);
    const write = await outcome<void>((done) => sftp.write(reading.value!, Buffer.from('overwritten'), 0, 11, 0, done));
    assert.equal(write.error?.code, PERMISSION_DENIED);
    assert.match(write.error!.message, /not opened for writing/);
    assert.equal(readFileSync(join(work, 'data.txt'), 'utf8'), 'some data\n');

    const writing = await outcome<Buffer>((done) => sftp.open(join(work, 'fresh.txt'), 'w', done));
    assert.equal(writing.error, undefined);
    const read = await outcome<number>((done) => sftp.read(writing.value!, Buffer.alloc(16), 0, 16, 0, done));
    assert.equal(read.error?.code, PERMISSION_DENIED);
    assert.match(read.error!.message, /not opened for reading/);
    await outcome<void>((done) => sftp.close(reading.value!, done));
    await outcome<void>((done) => sftp.close(writing.value!, done));
  });

  it('refuses a handle it never gave out', async () => {
    for (const forged of [Buffer.from([0, 0, 0, 0x77]), Buffer.from('deadbeef', 'hex'), Buffer.alloc(0)]) {
      const read = await outcome<number>((done) => sftp.read(forged, Buffer.alloc(8), 0, 8, 0, done));
      assert.equal(read.error?.code, FAILURE);
      const write = await outcome<void>((done) => sftp.write(forged, Buffer.from('x'), 0, 1, 0, done));
      assert.equal(write.error?.code, FAILURE);
    }
  });

  it('refuses every SFTP extension, so a hard link (which policy would see as no file operation) never reaches the host', async () => {
    // The PEP advertises no extension; a client that sends one anyway is answered "unsupported".
    const extensions = (sftp as unknown as { _extensions: Record<string, string> })._extensions;
    extensions['hardlink@openssh.com'] = '1';
    extensions['posix-rename@openssh.com'] = '1';
    const link = await outcome<void>((done) => sftp.ext_openssh_hardlink(join(work, 'data.txt'), join(work, 'hard-link.txt'), done));
    assert.equal(link.error?.code, OP_UNSUPPORTED);
    const rename = await outcome<void>((done) => sftp.ext_openssh_rename(join(work, 'data.txt'), join(work, 'renamed.txt'), done));
    assert.equal(rename.error?.code, OP_UNSUPPORTED);
    assert.ok(!existsSync(join(work, 'hard-link.txt')));
    assert.ok(!existsSync(join(work, 'renamed.txt')));
    assert.ok(!hostLog().some((line) => /hardlink|posix-rename/.test(line)));
  });

  it('refuses a path with a NUL, where the host would cut it short, before anything reaches the host', async () => {
    const cut = join(work, 'cut-here');
    const open = await outcome<Buffer>((done) => sftp.open(`${cut}\u0000.txt`, 'w', done));
    assert.equal(open.error?.code, FAILURE);
    assert.match(open.error!.message, /NUL/);
    const remove = await outcome<void>((done) => sftp.unlink(`${join(work, 'data.txt')}\u0000ignored`, done));
    assert.equal(remove.error?.code, FAILURE);
    assert.ok(!existsSync(cut));
    assert.ok(existsSync(join(work, 'data.txt')));
    assert.ok(!hostLog().some((line) => line.includes('cut-here')));
  });

  it('sends the host the path policy judged: `..` resolved as text, not after the host follows links', async () => {
    const open = await outcome<Buffer>((done) => sftp.open(`${work}/no-such-dir/../dotdot.txt`, 'w', done));
    assert.equal(open.error, undefined);
    await outcome<void>((done) => sftp.close(open.value!, done));
    assert.ok(existsSync(join(work, 'dotdot.txt')));
    assert.ok(hostLog().some((line) => line.startsWith(`open "${work}/dotdot.txt"`)), hostLog().join('\n'));
    assert.ok(!hostLog().some((line) => line.includes('no-such-dir')));
  });

  it('refuses a forbidden path on either side of a rename, leaving both names as they were', async () => {
    mkdirSync(join(work, 'forbidden'), { recursive: true });
    writeFileSync(join(work, 'forbidden', 'inside.txt'), 'inside\n');
    const out = await outcome<void>((done) => sftp.rename(join(work, 'forbidden', 'inside.txt'), join(work, 'outside.txt'), done));
    assert.equal(out.error?.code, PERMISSION_DENIED);
    const into = await outcome<void>((done) => sftp.rename(join(work, 'data.txt'), join(work, 'forbidden', 'data.txt'), done));
    assert.equal(into.error?.code, PERMISSION_DENIED);
    assert.match(into.error!.message, /file-forbidden/);
    assert.ok(existsSync(join(work, 'forbidden', 'inside.txt')));
    assert.ok(existsSync(join(work, 'data.txt')));
    assert.ok(!hostLog().some((line) => line.startsWith('rename')));
  });

  it('ends a session that piles up far more unanswered requests than any client keeps outstanding', async () => {
    const flooding = await stack.client(writer);
    const flood = await openSftp(flooding);
    let closed = false;
    flood.once('close', () => (closed = true));
    // Every one is answered or fails when the channel closes: this never waits on the PEP.
    const results = await Promise.all(Array.from({ length: 1100 }, () => outcome<unknown>((done) => flood.stat(join(work, 'data.txt'), done))));
    assert.ok(results.some((result) => result.error), 'requests left unanswered failed when the session ended');
    await eventually('the flooding channel closed', () => closed);
    flooding.end();
    // The PEP itself goes on serving others.
    const still = await outcome<unknown>((done) => sftp.stat(join(work, 'data.txt'), done));
    assert.equal(still.error, undefined);
  });

  it('fails closed when the PDP is gone: a session already open can do nothing more on the host', async () => {
    const before = hostLog().length;
    await stack.pdp.close({ keepState: true });
    const stat = await outcome<unknown>((done) => sftp.stat(join(work, 'data.txt'), done));
    assert.equal(stat.error?.code, FAILURE);
    assert.match(stat.error!.message, /no policy decision could be had/);
    const open = await outcome<Buffer>((done) => sftp.open(join(work, 'after-outage.txt'), 'w', done));
    assert.ok(open.error);
    assert.ok(!existsSync(join(work, 'after-outage.txt')));
    assert.deepEqual(hostLog().slice(before), []);
  });
});
