import { findValidGroupRuns } from './group-run-search.ts';
import { standsAlone } from './token-boundary.ts';
import type { DetectedSpan, ValueDetector } from './value-detector.ts';

// Country, check digits, then 11–30 letters or digits, optionally in space-separated groups.
const CANDIDATE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g;

/** IBAN lengths of the registry's countries; a code of any other country is not an IBAN. */
const LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22,
  GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31,
  MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24,
  SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/**
 * IBAN_CODE: an International Bank Account Number of a registry country, of that country's length,
 * whose mod-97 check (ISO 13616) holds, written compact or in groups of four (the last shorter).
 */
export class IbanDetector implements ValueDetector {
  readonly entity = 'IBAN_CODE';

  find(text: string): DetectedSpan[] {
    const spans: DetectedSpan[] = [];
    for (const match of text.matchAll(CANDIDATE)) {
      const start = match.index;
      const isIban = (compact: string, from: number, to: number): boolean =>
        ibanValid(compact) && printedAsIban(text.slice(from, to)) && standsAlone(text, from, to);
      const runs = findValidGroupRuns(text, start, start + match[0].length, (code) => code === 0x20, { min: 15, max: 34 }, isIban);
      for (const [from, to] of runs) spans.push({ entity: this.entity, start: from, end: to });
    }
    return spans;
  }
}

/** Whether a compact IBAN (no spaces) has a known shape and a valid mod-97 check. */
export function ibanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  if (iban.length !== LENGTHS[iban.slice(0, 2)]) return false;
  // Move the first four characters to the end, letters become 10–35, the number mod 97 must be 1.
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const character of rearranged) {
    const code = character.charCodeAt(0);
    const value = code >= 0x41 ? code - 0x41 + 10 : code - 0x30;
    remainder = (value >= 10 ? remainder * 100 + value : remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

function printedAsIban(raw: string): boolean {
  const groups = raw.split(' ');
  return groups.length === 1 || groups.every((group, index) => (index === groups.length - 1 ? group.length <= 4 : group.length === 4));
}
