import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { MaskStrategy, MaskValueType } from './mask-strategy.ts';
import { typedPlaceholder } from './typed-placeholder.ts';

/** Marks a pseudonym as one, so nobody takes it for a real value. */
export const HASH_PREFIX = 'h:';
const HEX_CHARS = 16;

/**
 * A keyed pseudonym: HMAC-SHA256 of the value's UTF-8 bytes under a secret key, shown as
 * `h:` + 16 hex characters (64 bits). The same value gives the same pseudonym in every session
 * and process that shares the key, so joins and counts still work; without the key it cannot be
 * reversed or confirmed by guessing. Numbers, uuids, json and bytea get pseudonyms of their own
 * type; other types are redacted.
 */
export class HashStrategy implements MaskStrategy {
  readonly name = 'hash';

  constructor(private readonly key: KeyObject) {
    if (key.type !== 'secret') throw new Error('the hash mask key must be a secret key');
  }

  maskText(value: string, type: MaskValueType = 'text'): string {
    return this.render(this.digest(Buffer.from(value, 'utf8')), type);
  }

  maskBytes(value: Buffer, type: MaskValueType = 'text'): Buffer {
    return Buffer.from(this.render(this.digest(value), type), 'utf8');
  }

  /** Whether `pseudonym` is this key's text pseudonym of `value`; compares in constant time. */
  matches(value: string | Buffer, pseudonym: string): boolean {
    const expected = Buffer.from(this.maskText(typeof value === 'string' ? value : value.toString('utf8')), 'utf8');
    const given = Buffer.from(pseudonym, 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private digest(value: Buffer): Buffer {
    return createHmac('sha256', this.key).update(value).digest();
  }

  private render(digest: Buffer, type: MaskValueType): string {
    const text = `${HASH_PREFIX}${digest.toString('hex', 0, HEX_CHARS / 2)}`;
    switch (type) {
      case 'text':
        return text;
      case 'json':
        return JSON.stringify(text);
      case 'number':
        // 31 bits: fits every integer column a client may decode it into.
        return String(digest.readUInt32BE(0) & 0x7fffffff);
      case 'uuid':
        return uuidFrom(digest);
      case 'bytes':
        return `\\x${digest.toString('hex', 0, 16)}`;
      default:
        return typedPlaceholder(type);
    }
  }
}

/** A version-8 (custom) UUID built from the digest. */
function uuidFrom(digest: Buffer): string {
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
