import { findValidGroupRuns } from './group-run-search.ts';
import type { DetectedSpan, ValueDetector } from './value-detector.ts';

// 13 to 19 digits, optionally grouped by spaces or dashes, not inside a longer number.
const CANDIDATE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?!\d)/g;

/** CREDIT_CARD: 13–19 digits of a card network's range (first digit 2–6) passing the Luhn check. */
export class CreditCardDetector implements ValueDetector {
  readonly entity = 'CREDIT_CARD';

  find(text: string): DetectedSpan[] {
    const spans: DetectedSpan[] = [];
    for (const match of text.matchAll(CANDIDATE)) {
      const start = match.index;
      const runs = findValidGroupRuns(text, start, start + match[0].length, isSeparator, { min: 13, max: 19 }, isCardNumber);
      for (const [from, to] of runs) spans.push({ entity: this.entity, start: from, end: to });
    }
    return spans;
  }
}

export function isCardNumber(digits: string): boolean {
  return /^[2-6]\d{12,18}$/.test(digits) && luhnValid(digits);
}

/** The Luhn (mod 10) check digit test. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 0x30;
    if (digit < 0 || digit > 9) return false;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

function isSeparator(code: number): boolean {
  return code === 0x20 || code === 0x2d;
}
