import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TTL_SECONDS, parseTtlSeconds } from '../src/identity/ttl.ts';

test('parses plain seconds and unit suffixes', () => {
  assert.equal(parseTtlSeconds('900'), 900);
  assert.equal(parseTtlSeconds('30s'), 30);
  assert.equal(parseTtlSeconds('15m'), 900);
  assert.equal(parseTtlSeconds('1h'), 3_600);
  assert.equal(parseTtlSeconds('2d'), 172_800);
  assert.equal(parseTtlSeconds(' 5m '), 300);
});

test('parses combinations from the largest unit down', () => {
  assert.equal(parseTtlSeconds('1h30m'), 5_400);
  assert.equal(parseTtlSeconds('1d2h3m4s'), 93_784);
});

test('rejects malformed input with a message that quotes it and shows the accepted forms', () => {
  for (const bad of ['', '  ', 'abc', '-5m', '1.5h', '15 m', '15M', '1w', 'm', '30m1h', '1h1h', '0x10']) {
    assert.throws(() => parseTtlSeconds(bad), (error: unknown) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /duration/);
      if (bad.trim() !== '') assert.ok(error.message.includes(`"${bad.trim()}"`), error.message);
      assert.match(error.message, /15m/);
      return true;
    });
  }
});

test('rejects zero and durations beyond the maximum', () => {
  assert.throws(() => parseTtlSeconds('0'), /greater than zero/);
  assert.throws(() => parseTtlSeconds('0m'), /greater than zero/);
  assert.equal(parseTtlSeconds(String(MAX_TTL_SECONDS)), MAX_TTL_SECONDS);
  assert.throws(() => parseTtlSeconds(String(MAX_TTL_SECONDS + 1)), /maximum/);
  assert.throws(() => parseTtlSeconds('99999999999999999999999'), /maximum/);
});

test('quotes at most a short prefix of a very long input', () => {
  assert.throws(() => parseTtlSeconds('x'.repeat(10_000)), (error: unknown) => error instanceof RangeError && error.message.length < 200);
});
