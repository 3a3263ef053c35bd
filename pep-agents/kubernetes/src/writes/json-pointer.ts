import { PatchError } from './patch-error.ts';

/**
 * JSON Pointer (RFC 6901) tokens. Only the strict form is read: a pointer starts with '/', and
 * '~' is followed by 0 or 1. The API server's JSON Patch library is looser (it keeps a stray
 * '~2' as written, reads "a/b" as "/b"); such pointers are refused here, never guessed.
 */
export function parseJsonPointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') throw new PatchError('invalid', 'a JSON Patch path must be a string');
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError('invalid', `JSON pointer "${pointer}" does not start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~(?![01])/.test(token)) throw new PatchError('invalid', `JSON pointer "${pointer}" has a "~" not followed by 0 or 1`);
      // RFC 6901: ~1 first, then ~0, so "~01" reads as "~1".
      return token.replaceAll('~1', '/').replaceAll('~0', '~');
    });
}

/**
 * An array index token: digits without a leading zero. The API server's library also takes
 * "+1", "01" and negative indices counted from the end; the resolver refuses them.
 */
export function parseArrayIndex(token: string, length: number, forInsert: boolean): number {
  if (forInsert && token === '-') return length;
  if (!/^(0|[1-9][0-9]{0,8})$/.test(token)) throw new PatchError('unsupported', `array index "${token}" is not a plain non-negative integer`);
  const index = Number(token);
  const limit = forInsert ? length : length - 1;
  if (index > limit) throw new PatchError('invalid', `array index ${index} is out of bounds (length ${length})`);
  return index;
}
