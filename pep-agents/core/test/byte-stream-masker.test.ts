import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteStreamMasker, byteStreamMasksSupported, createMaskStrategyRegistry, type ByteStreamMaskV1 } from '../src/index.ts';

const strategies = createMaskStrategyRegistry();
const EVERY_DETECTOR: ByteStreamMaskV1 = { kind: 'byte-stream', detectors: ['email', 'credit-card', 'iban', 'us-ssn', 'phone'], strategy: 'redact' };
const SECRETS = ['ops@example.com', '4111 1111 1111 1111', 'DE89 3704 0044 0532 0130 00', '123-45-6789', '+44 20 7946 0958'];
// Shell output with a value of each kind, some at line ends, one beside non-UTF-8 bytes.
const OUTPUT = Buffer.concat([
  Buffer.from(`total 12\nowner: ${SECRETS[0]}\ncard=${SECRETS[1]}; iban ${SECRETS[2]}\n`),
  Buffer.from([0xff, 0xfe, 0x00, 0x80]),
  Buffer.from(` ssn ${SECRETS[3]} call ${SECRETS[4]}\nuuid 9f2c1a4e-4111-1111-1111-111111111111 done\n`),
]);

function masker(masks: readonly ByteStreamMaskV1[] = [EVERY_DETECTOR], stream = 'stdout'): ByteStreamMasker {
  const built = ByteStreamMasker.for(masks, stream, strategies);
  assert.ok(built);
  return built;
}

function maskInChunks(input: Buffer, sizes: (index: number) => number, stream = masker()): { output: Buffer; masked: number } {
  const parts: Buffer[] = [];
  for (let at = 0, index = 0; at < input.length; index += 1) {
    const end = Math.min(input.length, at + Math.max(1, sizes(index)));
    parts.push(stream.push(input.subarray(at, end)));
    at = end;
  }
  parts.push(stream.end());
  return { output: Buffer.concat(parts), masked: stream.masked };
}

describe('the byte-stream masker (byte-stream obligations over a shell\'s output)', () => {
  const whole = maskInChunks(OUTPUT, () => OUTPUT.length);

  it('replaces every value the named detectors find, and keeps every other byte exactly', () => {
    for (const secret of SECRETS) assert.ok(!whole.output.includes(secret), secret);
    assert.equal(whole.masked, SECRETS.length);
    assert.ok(whole.output.includes(Buffer.from([0xff, 0xfe, 0x00, 0x80])));
    assert.ok(whole.output.toString('latin1').includes('uuid 9f2c1a4e-4111-1111-1111-111111111111 done\n'), 'a UUID is not a card');
    assert.ok(whole.output.toString('latin1').startsWith('total 12\nowner: ****\n'));
  });

  it('gives the same output whichever byte a chunk boundary falls on', () => {
    // Longer than what the masker holds back, so the first part is partly sent before the rest comes.
    const input = Buffer.concat([OUTPUT, OUTPUT, OUTPUT, OUTPUT]);
    const reference = maskInChunks(input, () => input.length).output;
    for (let split = 1; split < input.length; split += 1) {
      const stream = masker();
      const first = stream.push(input.subarray(0, split));
      const output = Buffer.concat([first, stream.push(input.subarray(split)), stream.end()]);
      assert.deepEqual(output, reference, `split at ${split}`);
      assert.equal(stream.masked, 4 * SECRETS.length);
      for (const secret of SECRETS) assert.ok(!first.includes(secret.slice(0, 6)), `no part of a value is sent ahead (split ${split})`);
    }
  });

  it('gives the same output for a long stream arriving a few bytes at a time', () => {
    const long = Buffer.concat(Array.from({ length: 40 }, () => OUTPUT));
    const reference = maskInChunks(long, () => long.length);
    const trickled = maskInChunks(long, (index) => 1 + ((index * 7) % 13));
    assert.deepEqual(trickled.output, reference.output);
    assert.equal(trickled.masked, 40 * SECRETS.length);
    for (const secret of SECRETS) assert.ok(!trickled.output.includes(secret), secret);
  });

  it('applies the obligation\'s strategy, and the strictest when two obligations disagree', () => {
    const partial = maskInChunks(Buffer.from(`card ${SECRETS[1]}\n`), () => 3, masker([{ kind: 'byte-stream', detectors: ['credit-card'], strategy: 'partial' }]));
    assert.equal(partial.output.toString(), 'card **** **** **** 1111\n');
    const disagreeing = masker([
      { kind: 'byte-stream', detectors: ['credit-card'], strategy: 'partial' },
      { kind: 'byte-stream', detectors: ['credit-card'], strategy: 'hash' },
    ]);
    assert.equal(maskInChunks(Buffer.from(`card ${SECRETS[1]}\n`), () => 100, disagreeing).output.toString(), 'card ****\n');
  });

  it('masks only the detectors named, on the streams named', () => {
    const emailsOnStderr: ByteStreamMaskV1 = { kind: 'byte-stream', stream: 'stderr', detectors: ['email'], strategy: 'redact' };
    assert.equal(ByteStreamMasker.for([emailsOnStderr], 'stdout', strategies), undefined);
    const stderr = maskInChunks(OUTPUT, () => 5, masker([emailsOnStderr], 'stderr'));
    assert.equal(stderr.masked, 1);
    assert.ok(stderr.output.includes(SECRETS[1]!));
  });

  it('says when an obligation names a detector it does not have (the PEP then refuses the command)', () => {
    assert.equal(byteStreamMasksSupported([EVERY_DETECTOR]), true);
    assert.equal(byteStreamMasksSupported([{ kind: 'byte-stream', detectors: ['email', 'passport'], strategy: 'redact' }]), false);
  });
});
