import { standsAlone } from './token-boundary.ts';
import type { DetectedSpan, ValueDetector } from './value-detector.ts';

// Grouped 3-2-4 with one kind of separator; nine bare digits are too often something else.
const CANDIDATE = /(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])/g;

/** US_SSN: area not 000, 666 or 900–999, group not 00, serial not 0000 (SSA's never-issued ranges). */
export class UsSsnDetector implements ValueDetector {
  readonly entity = 'US_SSN';

  find(text: string): DetectedSpan[] {
    const spans: DetectedSpan[] = [];
    for (const match of text.matchAll(CANDIDATE)) {
      const [whole, area, , group, serial] = match;
      const end = match.index + whole.length;
      if (!validSsnParts(area!, group!, serial!) || !standsAlone(text, match.index, end)) continue;
      spans.push({ entity: this.entity, start: match.index, end });
    }
    return spans;
  }
}

export function validSsnParts(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}
