import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import {
  createMaskStrategyRegistry,
  HashStrategy,
  maskHashKeyFromEnv,
  NullStrategy,
  parseMaskHashKey,
  PartialStrategy,
  RedactStrategy,
  type MaskValueType,
} from '../src/index.ts';

const KEY_HEX = 'a3'.repeat(32);

describe('redact', () => {
  const redact = new RedactStrategy();

  it('hides text behind a fixed placeholder that says nothing of the value', () => {
    assert.equal(redact.maskText('jane.doe@example.com'), '****');
    assert.equal(redact.maskText('x'), '****');
    assert.deepEqual(redact.maskBytes(Buffer.from('123-45-6789')), Buffer.from('****'));
  });

  it('gives a placeholder every typed client can still parse', () => {
    const expected: Record<MaskValueType, string> = {
      text: '****',
      number: '0',
      boolean: 'f',
      date: '1970-01-01',
      time: '00:00:00',
      timestamp: '1970-01-01 00:00:00',
      timestamptz: '1970-01-01 00:00:00+00',
      uuid: '00000000-0000-0000-0000-000000000000',
      json: '"****"',
      bytes: '\\x',
    };
    for (const [type, placeholder] of Object.entries(expected)) assert.equal(redact.maskText('secret', type as MaskValueType), placeholder, type);
    assert.deepEqual(JSON.parse(redact.maskText('{"a":1}', 'json')), '****');
  });
});

describe('partial', () => {
  const partial = new PartialStrategy();

  it('keeps only the domain of an email address', () => {
    assert.equal(partial.maskText('jane.doe@example.com'), '****@example.com');
    assert.equal(partial.maskText('a+tag@mail.example.co.uk'), '****@mail.example.co.uk');
  });

  it('keeps the last four letters or digits and the punctuation of longer values', () => {
    assert.equal(partial.maskText('4111 1111 1111 1111'), '**** **** **** 1111');
    assert.equal(partial.maskText('4111111111111111'), '************1111');
    assert.equal(partial.maskText('+1 (555) 010-9999'), '+* (***) ***-9999');
    assert.equal(partial.maskText('DE89370400440532013000'), '******************3000');
  });

  it('hides short values whole, since four characters would be most of them', () => {
    assert.equal(partial.maskText('1234567'), '****');
    assert.equal(partial.maskText('ab'), '****');
    assert.equal(partial.maskText(''), '****');
  });

  it('redacts whole every value that is not text', () => {
    assert.equal(partial.maskText('4111111111111111', 'number'), '0');
    assert.equal(partial.maskText('2024-01-15', 'date'), '1970-01-01');
  });

  it('works on UTF-8 bytes', () => {
    assert.equal(partial.maskBytes(Buffer.from('zoë.müller@example.de')).toString('utf8'), '****@example.de');
    assert.equal(partial.maskBytes(Buffer.from('Straße 12345678')).toString('utf8'), '****** ****5678');
  });
});

describe('hash', () => {
  const hash = new HashStrategy(parseMaskHashKey(KEY_HEX));

  it('gives a prefixed, truncated pseudonym that is stable across instances sharing the key', () => {
    const pseudonym = hash.maskText('jane.doe@example.com');
    assert.match(pseudonym, /^h:[0-9a-f]{16}$/);
    assert.equal(new HashStrategy(parseMaskHashKey(KEY_HEX)).maskText('jane.doe@example.com'), pseudonym);
    assert.equal(hash.maskBytes(Buffer.from('jane.doe@example.com')).toString(), pseudonym, 'text and bytes agree');
    assert.notEqual(hash.maskText('john.doe@example.com'), pseudonym);
  });

  it('gives a different pseudonym under a different key', () => {
    const other = new HashStrategy(parseMaskHashKey(randomBytes(32).toString('base64')));
    assert.notEqual(other.maskText('jane.doe@example.com'), hash.maskText('jane.doe@example.com'));
  });

  it('confirms a pseudonym only for its value', () => {
    const pseudonym = hash.maskText('123-45-6789');
    assert.equal(hash.matches('123-45-6789', pseudonym), true);
    assert.equal(hash.matches('123-45-6780', pseudonym), false);
    assert.equal(hash.matches('123-45-6789', pseudonym.slice(0, -1)), false);
  });

  it('keeps typed pseudonyms parseable', () => {
    assert.match(hash.maskText('42', 'number'), /^\d+$/);
    assert.ok(Number(hash.maskText('42', 'number')) <= 2 ** 31 - 1);
    assert.match(hash.maskText('0b7b7a4e-54a4-4b9c-9a1b-1f7d3c9e0c11', 'uuid'), /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(JSON.parse(hash.maskText('{"a":1}', 'json')), /^h:[0-9a-f]{16}$/);
    assert.match(hash.maskText('\\x0102', 'bytes'), /^\\x[0-9a-f]{32}$/);
    assert.equal(hash.maskText('2024-01-15', 'date'), '1970-01-01');
  });
});

describe('the hash key', () => {
  it('is read from a file or the environment, as hex or base64', () => {
    const directory = mkdtempSync(join(tmpdir(), 'pep-core-key-'));
    try {
      const file = join(directory, 'key');
      writeFileSync(file, `${KEY_HEX}\n`);
      const fromFile = new HashStrategy(maskHashKeyFromEnv({ PORTCULLIS_PEP_MASK_HASH_KEY_FILE: file })!);
      const fromHex = new HashStrategy(maskHashKeyFromEnv({ PORTCULLIS_PEP_MASK_HASH_KEY: KEY_HEX })!);
      const fromBase64 = new HashStrategy(maskHashKeyFromEnv({ PORTCULLIS_PEP_MASK_HASH_KEY: Buffer.from(KEY_HEX, 'hex').toString('base64') })!);
      assert.equal(fromFile.maskText('v'), fromHex.maskText('v'));
      assert.equal(fromBase64.maskText('v'), fromHex.maskText('v'));
      assert.equal(maskHashKeyFromEnv({}), undefined);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuses a short key without showing it, and never shows it when inspected', () => {
    const short = 'ab'.repeat(16);
    assert.throws(() => parseMaskHashKey(short, 'PORTCULLIS_PEP_MASK_HASH_KEY'), (error: Error) => {
      assert.match(error.message, /PORTCULLIS_PEP_MASK_HASH_KEY must hold at least 32 bytes/);
      assert.ok(!error.message.includes(short));
      return true;
    });
    const strategy = new HashStrategy(parseMaskHashKey(KEY_HEX));
    assert.ok(!inspect(strategy, { depth: 5 }).includes(KEY_HEX));
    assert.ok(!JSON.stringify(strategy).includes(KEY_HEX));
  });

  it('names the setting when the key file cannot be read', () => {
    assert.throws(() => maskHashKeyFromEnv({ PORTCULLIS_PEP_MASK_HASH_KEY_FILE: '/nonexistent/key' }), /PORTCULLIS_PEP_MASK_HASH_KEY_FILE cannot be read \(ENOENT\)/);
  });
});

describe('null', () => {
  it('turns every value into NULL', () => {
    assert.equal(new NullStrategy().maskText(), null);
    assert.equal(new NullStrategy().maskBytes(), null);
  });
});

describe('the strategy registry', () => {
  const registry = createMaskStrategyRegistry({ hashKey: parseMaskHashKey(KEY_HEX) });

  it('finds each strategy by the name an obligation gives', () => {
    assert.equal(registry.get('redact').maskText('x'), '****');
    assert.equal(registry.get('partial').maskText('jane@example.com'), '****@example.com');
    assert.match(registry.get('hash').maskText('x')!, /^h:/);
    assert.equal(registry.get('null').maskText('x'), null);
    assert.match(registry.get(' HASH ').maskText('x')!, /^h:/);
  });

  it('answers a name it does not know with the strictest strategy, never a pass-through', () => {
    for (const name of ['shuffle', '', 'none', 'passthrough', 'partial2']) {
      assert.equal(registry.knows(name), false);
      assert.equal(registry.get(name).maskText('jane@example.com'), '****', name);
    }
  });

  it('redacts where a hash is asked for but no key is configured', () => {
    const keyless = createMaskStrategyRegistry();
    assert.equal(keyless.get('hash').maskText('jane@example.com'), '****');
    assert.equal(keyless.get('hash').maskText('7', 'number'), '0');
  });
});
