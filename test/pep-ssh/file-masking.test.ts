// Files read through the SSH PEP under a byte-stream mask obligation (the file test policy masks
// reads under a `masked/` folder): e-mail addresses and card numbers are replaced in what sftp,
// scp and scp -O receive, also where a value straddles the client's and the PEP's read sizes,
// and the session entry counts them. The oracle is the SDK's masker over the whole file at once.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ByteStreamMasker, createMaskStrategyRegistry } from '@portcullis/pep-core';
import { eventually } from '../support/eventually.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { scp, sftpBatch } from './file-clients.ts';
import { fileTestPolicyBundle } from './file-test-policy.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

const SECRETS = ['first.person@example.com', 'straddles.32k@example.org', 'straddles.64k@example.net', 'late.value@example.com'];
const CARD = '4111 1111 1111 1111';

/** ~300 KiB of text with values cut by 32 KiB (sftp's reads) and 64 KiB (the PEP's reads) boundaries. */
function fileWithValues(): Buffer {
  const size = 300 * 1024;
  const text = Buffer.alloc(size, 'lorem ipsum dolor sit amet\n');
  const place = (value: string, at: number) => text.write(` ${value} `, at - 1 - Math.floor(value.length / 2), 'latin1');
  place(SECRETS[0]!, 100);
  place(SECRETS[1]!, 32 * 1024);
  place(SECRETS[2]!, 64 * 1024);
  place(CARD, 128 * 1024);
  place(SECRETS[3]!, size - 40);
  return text;
}

function maskedWhole(content: Buffer): { bytes: Buffer; masked: number } {
  const masker = ByteStreamMasker.for([{ kind: 'byte-stream', detectors: ['email', 'credit-card'], strategy: 'redact' }], 'file', createMaskStrategyRegistry())!;
  const bytes = Buffer.concat([masker.push(content), masker.end()]);
  return { bytes, masked: masker.masked };
}

describe('masked file reads through the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;
  let content: Buffer;
  let expected: { bytes: Buffer; masked: number };
  let remote: string;
  const local = join(tmpdir(), `portcullis-file-masking-${process.pid}`);

  before(async () => {
    stack = await startSshPepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: fileTestPolicyBundle() } });
    reader = await stack.token('agent-reader', ['reader']);
    mkdirSync(join(stack.sshd.workDir, 'masked'));
    mkdirSync(local, { recursive: true });
    content = fileWithValues();
    remote = join(stack.sshd.workDir, 'masked', 'people.txt');
    writeFileSync(remote, content);
    writeFileSync(join(stack.sshd.workDir, 'plain.txt'), content);
    expected = maskedWhole(content);
    assert.equal(expected.masked, SECRETS.length + 1);
  });
  after(() => stack?.close());

  const maskedEntries = async (protocol: string) =>
    sessionStatementBodies(await stack.pdp.auditEvents('sessions')).filter((body) => body.statement.text === `${protocol} read ${remote}`);

  const assertMasked = (received: Buffer) => {
    for (const secret of [...SECRETS, CARD]) assert.ok(!received.includes(secret), `${secret} came back unmasked`);
    assert.ok(received.equals(expected.bytes), 'the file as the whole-file masker masks it');
  };

  it('masks a file fetched with sftp get, across read boundaries, and counts the values in the session entry', async () => {
    const target = join(local, 'sftp.txt');
    const result = await sftpBatch(stack, reader, [`get ${remote} ${target}`]);
    assert.equal(result.code, 0, result.stderr);
    assertMasked(readFileSync(target));
    const entry = await eventually('the masked read entry', async () => (await maskedEntries('sftp')).at(-1));
    assert.equal(entry.masked_cells, expected.masked);
    assert.equal(entry.bytes, expected.bytes.length);
  });

  it('masks the same file fetched with scp (SFTP) and with scp -O (legacy), whose header carries the masked size', async () => {
    const viaScp = join(local, 'scp.txt');
    const viaLegacy = join(local, 'scp-legacy.txt');
    const scpResult = await scp(stack, reader, [`remote:${remote}`, viaScp]);
    assert.equal(scpResult.code, 0, scpResult.stderr);
    assertMasked(readFileSync(viaScp));
    const legacy = await scp(stack, reader, [`remote:${remote}`, viaLegacy], { legacy: true });
    assert.equal(legacy.code, 0, legacy.stderr);
    assertMasked(readFileSync(viaLegacy));
    const entry = await eventually('the legacy scp masked read entry', async () => (await maskedEntries('scp')).at(-1));
    assert.equal(entry.masked_cells, expected.masked);
  });

  it('leaves a file outside the masked folder exactly as it is', async () => {
    const target = join(local, 'plain.txt');
    const result = await sftpBatch(stack, reader, [`get ${join(stack.sshd.workDir, 'plain.txt')} ${target}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(readFileSync(target).equals(content));
  });

  it('serves a masked file in order: a read far ahead of what was sent is refused, reads in order come back masked', async () => {
    const client = await stack.client(reader);
    const sftp = await new Promise<import('ssh2').SFTPWrapper>((resolve, reject) => client.sftp((error, channel) => (error ? reject(error) : resolve(channel))));
    const handle = await new Promise<Buffer>((resolve, reject) => sftp.open(remote, 'r', (error, opened) => (error ? reject(error) : resolve(opened))));
    const readAt = (position: number, length: number) =>
      new Promise<{ error?: Error; bytes?: Buffer }>((resolve) =>
        sftp.read(handle, Buffer.alloc(length), 0, length, position, (error, count, buffer) => resolve(error ? { error } : { bytes: buffer.subarray(0, count) })),
      );
    const far = await readAt(64 * 1024 * 1024, 1024);
    assert.match(far.error?.message ?? '', /read in order/);
    const first = await readAt(0, 32 * 1024);
    assert.ok(first.bytes?.equals(expected.bytes.subarray(0, 32 * 1024)));
    const tail = await readAt(expected.bytes.length - 100, 100);
    assert.ok(tail.bytes?.equals(expected.bytes.subarray(-100)));
    client.end();
  });

  it('refuses to open a masked file for reading and writing at once: the masked view and the file would part ways', async () => {
    const client = await stack.client(await stack.token('agent-writer', ['writer']));
    const sftp = await new Promise<import('ssh2').SFTPWrapper>((resolve, reject) => client.sftp((error, channel) => (error ? reject(error) : resolve(channel))));
    const error = await new Promise<Error | undefined>((resolve) => sftp.open(remote, 'r+', (openError) => resolve(openError ?? undefined)));
    assert.ok(error, 'the open was refused');
    assert.match(error.message, /may only be read masked/);
    assert.ok(!stack.sshd.sftpLog().some((line) => line.startsWith('open') && line.includes(remote) && line.includes('WRITE')));
    client.end();
  });
});
