// exec output under byte-stream mask obligations: e-mail addresses and card numbers are replaced
// in what the client receives on stdout and stderr, also where a value straddles the SSH
// channel's packets (32 KiB) and the host's writes, every other byte passes unchanged, and the
// session entry counts them. The oracle is the SDK's masker over the whole output at once.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ByteStreamMasker, createMaskStrategyRegistry } from '@portcullis/pep-core';
import { eventually } from '../support/eventually.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { execMaskPolicyBundle } from './exec-mask-policy.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

const EMAILS = ['first.person@example.com', 'at.16k@example.org', 'at.32k@example.net', 'at.64k@example.com', 'near.end@example.com'];
const CARD = '4111 1111 1111 1111';

/** ~200 KiB of text with values placed across the boundaries of SSH packets and pipe writes. */
function outputWithValues(): Buffer {
  const size = 200 * 1024;
  const text = Buffer.alloc(size, 'lorem ipsum dolor sit amet\n');
  const place = (value: string, at: number) => text.write(` ${value} `, at - 1 - Math.floor(value.length / 2), 'latin1');
  place(EMAILS[0]!, 100);
  place(EMAILS[1]!, 16 * 1024);
  place(EMAILS[2]!, 32 * 1024);
  place(EMAILS[3]!, 64 * 1024);
  place(CARD, 128 * 1024);
  place(EMAILS[4]!, size - 40);
  return text;
}

function maskedWhole(content: Buffer, detectors: string[]): { text: string; masked: number } {
  const masker = ByteStreamMasker.for([{ kind: 'byte-stream', detectors, strategy: 'redact' }], 'stdout', createMaskStrategyRegistry())!;
  const bytes = Buffer.concat([masker.push(content), masker.end()]);
  return { text: bytes.toString('latin1'), masked: masker.masked };
}

describe('masked exec output through the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;
  let content: Buffer;
  let file: string;

  before(async () => {
    stack = await startSshPepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: execMaskPolicyBundle() } });
    reader = await stack.token('agent-reader', ['reader']);
    content = outputWithValues();
    file = join(stack.sshd.workDir, 'people.txt');
    writeFileSync(file, content);
    writeFileSync(join(stack.sshd.workDir, 'plain.txt'), content);
  });
  after(() => stack?.close());

  const statementFor = async (command: string) =>
    eventually(`the session entry for ${command}`, async () =>
      sessionStatementBodies(await stack.pdp.auditEvents('sessions')).find((body) => body.statement.text === command) as
        | (Record<string, unknown> & { masked_cells?: number; bytes?: number })
        | undefined,
    );

  it('masks values on stdout across packet boundaries with the real ssh client, and counts them', async () => {
    const expected = maskedWhole(content, ['email', 'credit-card']);
    assert.equal(expected.masked, EMAILS.length + 1);
    const command = `cat ${file}`;
    const result = await stack.ssh(reader, command);
    assert.equal(result.code, 0, result.stderr);
    const received = Buffer.from(result.stdout, 'utf8').toString('latin1');
    assert.equal(received, expected.text, 'byte for byte what the masker makes of the whole output');
    for (const value of [...EMAILS, CARD]) assert.ok(!received.includes(value), `${value} never reaches the client`);
    const entry = await statementFor(command);
    assert.equal(entry.masked_cells, expected.masked);
    assert.equal(entry.bytes, Buffer.byteLength(expected.text, 'latin1'));
  });

  it('masks stderr too, in small writes that cut values apart (ssh2 client)', async () => {
    // dd with a small block size writes the file to stderr 1000 bytes at a time.
    const command = `dd if=${file} bs=1000 status=none >&2 # people`;
    const client = await stack.client(reader);
    const result = await stack.exec(client, command);
    assert.equal(result.code, 0);
    const expected = maskedWhole(content, ['email', 'credit-card']);
    assert.equal(Buffer.from(result.stderr, 'utf8').toString('latin1'), expected.text);
    assert.equal((await statementFor(command)).masked_cells, expected.masked);
  });

  it('applies an obligation naming stdout to stdout alone', async () => {
    const command = `cat ${join(stack.sshd.workDir, 'plain.txt')}; echo stderr:${EMAILS[0]} >&2 # stdout-only`;
    const client = await stack.client(reader);
    const result = await stack.exec(client, command);
    assert.equal(result.code, 0);
    assert.ok(!result.stdout.includes('@example.'), 'stdout is masked');
    assert.equal(result.stderr, `stderr:${EMAILS[0]}\n`, 'stderr is not named, so not masked');
  });

  it('masks what the host writes to stderr when a terminal merges it into the one stream', async () => {
    const command = `echo plain-stdout; echo secret:${EMAILS[0]} >&2 # stderr-only`;
    const result = await stack.ssh(reader, command, { args: ['-tt'] });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /plain-stdout/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(EMAILS[0]!), 'the value never reaches the client through the terminal');
    assert.match(result.stdout, /secret:\S/);
  });

  it('leaves output alone when policy asks for no masking', async () => {
    const result = await stack.ssh(reader, `cat ${join(stack.sshd.workDir, 'plain.txt')}`);
    assert.ok(Buffer.from(result.stdout, 'utf8').equals(content));
  });

  it('refuses a command whose masks name a detector the PEP lacks, before it reaches the host', async () => {
    const command = `cat ${join(stack.sshd.workDir, 'plain.txt')} # unknown-detector`;
    const result = await stack.ssh(reader, command);
    assert.equal(result.code, 77);
    assert.match(result.stderr, /masking this PEP cannot apply/);
    assert.equal(result.stdout, '');
    assert.ok(!stack.sshd.commands().some((entry) => entry.command === command));
  });
});
