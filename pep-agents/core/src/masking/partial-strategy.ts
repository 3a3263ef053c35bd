import type { MaskStrategy, MaskValueType } from './mask-strategy.ts';
import { REDACTED_TEXT, typedPlaceholder } from './typed-placeholder.ts';

const KEEP_LAST = 4;
// Shorter values would be mostly shown by keeping four characters: hide them whole.
const MIN_LENGTH_TO_KEEP = 8;
const EMAIL = /^[^@\s]+@([^@\s]+\.[^@\s]+)$/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * Shows enough to recognise a value, not to use it:
 * - an email keeps its domain: `jane.doe@example.com` → `****@example.com`;
 * - other text keeps its last four letters or digits and its punctuation, the rest becomes `*`:
 *   `4111 1111 1111 1111` → `**** **** **** 1111`, `+1 (555) 010-9999` → `+* (***) ***-9999`;
 * - text with fewer than eight letters and digits, and every non-text type, is redacted whole.
 */
export class PartialStrategy implements MaskStrategy {
  readonly name = 'partial';

  maskText(value: string, type: MaskValueType = 'text'): string {
    if (type !== 'text') return typedPlaceholder(type);
    const email = EMAIL.exec(value);
    if (email) return `${REDACTED_TEXT}@${email[1]}`;
    return keepLast(value);
  }

  maskBytes(value: Buffer, type?: MaskValueType): Buffer {
    return Buffer.from(this.maskText(value.toString('utf8'), type), 'utf8');
  }
}

function keepLast(value: string): string {
  const characters = Array.from(value);
  const significant = characters.filter((character) => LETTER_OR_DIGIT.test(character)).length;
  if (significant < MIN_LENGTH_TO_KEEP) return REDACTED_TEXT;
  let toHide = significant - KEEP_LAST;
  return characters
    .map((character) => {
      if (toHide === 0 || !LETTER_OR_DIGIT.test(character)) return character;
      toHide -= 1;
      return '*';
    })
    .join('');
}
