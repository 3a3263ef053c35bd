import { digitRuns } from './digit-runs.ts';
import { digitRunsInBytes } from './digit-runs-in-bytes.ts';
import { findValidGroupRuns } from './group-run-search.ts';
import { standsAlone } from './token-boundary.ts';
import type { DetectedSpan, ValueDetector } from './value-detector.ts';

// Runs of digit groups split by one space or dash; bounded, so a long run of digits costs one pass.
const CANDIDATE = /(?<!\d)\d{1,19}(?:[ -]\d{1,19}){0,11}(?!\d)/g;

/** How card numbers are printed: compact, or in these groups (Visa/Mastercard 4-4-4-4, Amex 4-6-5, Diners 4-6-4 …). */
const GROUPED_LAYOUTS = new Set(['4-4-4-4', '4-4-4-4-1', '4-4-4-4-2', '4-4-4-4-3', '4-6-5', '4-6-4', '4-4-4-1', '4-4-4-2', '4-4-4-3', '4-4-5']);

const MAESTRO_PREFIXES = new Set([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763]);

/**
 * CREDIT_CARD: a number of a card network's issuer range and length that passes the Luhn check,
 * written compact or grouped as cards print it, one kind of separator, standing alone (not the
 * digits of a UUID, a hex digest, a longer id or a negative number).
 */
export class CreditCardDetector implements ValueDetector {
  readonly entity = 'CREDIT_CARD';

  find(text: string, bytes?: Uint8Array): DetectedSpan[] {
    const spans: DetectedSpan[] = [];
    const isCard = (compact: string, from: number, to: number): boolean =>
      isCardNumber(compact) && printedAsCard(text, from, to) && standsAlone(text, from, to) && !signed(text, from);
    // A candidate lies within one run of digit groups; runs of fewer than 13 digits hold no card.
    const runs = bytes ? digitRunsInBytes(bytes, 13) : digitRuns(text, 13);
    for (let run = 0; run < runs.length; run += 2) {
      const runEnd = runs[run + 1]!;
      CANDIDATE.lastIndex = runs[run]!;
      for (let match = CANDIDATE.exec(text); match !== null && match.index < runEnd; match = CANDIDATE.exec(text)) {
        // Fewer than 13 characters cannot hold 13 digits.
        if (match[0].length < 13) continue;
        const start = match.index;
        const runs = findValidGroupRuns(text, start, start + match[0].length, isSeparator, { min: 13, max: 19 }, isCard);
        for (const [from, to] of runs) spans.push({ entity: this.entity, start: from, end: to });
      }
    }
    return spans;
  }
}

/**
 * Issuer ranges (IIN prefixes) and the lengths each network issues, then the Luhn digit. Lengths
 * networks allow but hardly issue (17, 18) are left out: epoch nanoseconds of the 1990s are 18
 * digits starting with 6, which the Discover and UnionPay ranges would otherwise take.
 */
export function isCardNumber(digits: string): boolean {
  if (!/^\d{13,19}$/.test(digits) || !luhnValid(digits)) return false;
  const length = digits.length;
  const two = Number(digits.slice(0, 2));
  const three = Number(digits.slice(0, 3));
  const four = Number(digits.slice(0, 4));
  if (digits[0] === '4') return length === 13 || length === 16 || length === 19; // Visa
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return length === 16; // Mastercard
  if (two === 34 || two === 37) return length === 15; // American Express
  if ((three >= 300 && three <= 305) || two === 36 || two === 38 || two === 39) return length === 14 || length === 16; // Diners Club
  const sixteenOrNineteen = length === 16 || length === 19;
  if (four >= 3528 && four <= 3589) return sixteenOrNineteen; // JCB
  if (four === 6011 || (three >= 644 && three <= 649) || two === 65) return sixteenOrNineteen; // Discover
  if (two === 62) return sixteenOrNineteen; // UnionPay
  // Maestro, by its own IINs only: the old 50/56–69 blanket also covers epoch microseconds of the 1990s.
  if (MAESTRO_PREFIXES.has(four)) return sixteenOrNineteen;
  return false;
}

/** `-2595268248556235` is a negative number, not a card. */
function signed(text: string, from: number): boolean {
  return text[from - 1] === '-';
}

/** Compact, or in one of the card layouts with one kind of separator (a char loop: it runs for every card found). */
function printedAsCard(text: string, from: number, to: number): boolean {
  let separator = 0;
  let layout = '';
  let groupStart = from;
  for (let index = from; index < to; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 0x30 && code <= 0x39) continue;
    if (separator !== 0 && code !== separator) return false;
    separator = code;
    layout += `${index - groupStart}-`;
    groupStart = index + 1;
  }
  return separator === 0 || GROUPED_LAYOUTS.has(`${layout}${to - groupStart}`);
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
