import type { DetectedSpan, ValueDetector } from './value-detector.ts';

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TOP_LEVEL = /^[A-Za-z]{2,63}$/;

/**
 * EMAIL_ADDRESS: `local@domain.tld` in ASCII. Grows outward from each `@` instead of running a
 * regex over the whole text, so a megabyte-long cell costs one pass.
 */
export class EmailAddressDetector implements ValueDetector {
  readonly entity = 'EMAIL_ADDRESS';

  find(text: string): DetectedSpan[] {
    const spans: DetectedSpan[] = [];
    let from = 0;
    for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', from)) {
      from = at + 1;
      let start = at;
      while (start > 0 && at - start < MAX_LOCAL && isLocalChar(text.charCodeAt(start - 1))) start -= 1;
      while (start < at && text[start] === '.') start += 1;
      if (start === at) continue;
      let end = at + 1;
      while (end < text.length && end - at <= MAX_DOMAIN && isDomainChar(text.charCodeAt(end))) end += 1;
      while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end -= 1;
      if (!validDomain(text.slice(at + 1, end))) continue;
      spans.push({ entity: this.entity, start, end });
      from = end;
    }
    return spans;
  }
}

function validDomain(domain: string): boolean {
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((label) => LABEL.test(label)) && TOP_LEVEL.test(labels.at(-1)!);
}

// Letters, digits and . _ % + - : the local parts people use; quotes stay outside a match.
function isLocalChar(code: number): boolean {
  return isAlnum(code) || code === 0x2e || code === 0x5f || code === 0x25 || code === 0x2b || code === 0x2d;
}

function isDomainChar(code: number): boolean {
  return isAlnum(code) || code === 0x2e || code === 0x2d;
}

function isAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}
