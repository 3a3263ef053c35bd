import { standsAlone } from './token-boundary.ts';
import type { DetectedSpan, ValueDetector } from './value-detector.ts';

// +<country> and 8–15 digits in all, separated by spaces, dots, dashes or parentheses.
const INTERNATIONAL = /(?<![\w+])\+\d(?:[ .()-]{0,2}\d){6,14}(?!\w)/g;
// North American numbers need their separators: (212) 555-0123, 212-555-0123, 212.555.0123.
const NORTH_AMERICAN = /(?<![\w.+-])(?:1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w]|[.-]\d)/g;

/**
 * PHONE_NUMBER: international numbers written with a leading `+`, and North American numbers
 * written with separators, standing alone. A bare run of digits is not flagged: ids and amounts
 * look the same.
 */
export class PhoneNumberDetector implements ValueDetector {
  readonly entity = 'PHONE_NUMBER';

  find(text: string): DetectedSpan[] {
    const spans: DetectedSpan[] = [];
    for (const match of text.matchAll(INTERNATIONAL)) {
      const digits = match[0].replace(/\D/g, '');
      const end = match.index + match[0].length;
      if (digits.length < 8 || digits.length > 15 || digits[0] === '0' || !standsAlone(text, match.index, end)) continue;
      spans.push({ entity: this.entity, start: match.index, end: match.index + match[0].length });
    }
    const international = spans.length;
    for (const match of text.matchAll(NORTH_AMERICAN)) {
      const start = match.index;
      const end = start + match[0].length;
      if (!standsAlone(text, start, end)) continue;
      // "+1 (212) 555-0123" is found by both patterns: report it once.
      if (spans.slice(0, international).some((span) => span.start < end && start < span.end)) continue;
      spans.push({ entity: this.entity, start, end });
    }
    return spans.sort((a, b) => a.start - b.start);
  }
}
