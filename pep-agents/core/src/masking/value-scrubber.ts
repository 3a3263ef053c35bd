import { CreditCardDetector } from './credit-card-detector.ts';
import { EmailAddressDetector } from './email-address-detector.ts';
import { IbanDetector } from './iban-detector.ts';
import { PhoneNumberDetector } from './phone-number-detector.ts';
import { UsSsnDetector } from './us-ssn-detector.ts';
import type { DetectedEntity, DetectedSpan, ValueDetector } from './value-detector.ts';

/** What a found span becomes; the default names the entity as Presidio's replace operator does. */
export type SpanReplacement = (entity: DetectedEntity, original: string) => string;

export const entityPlaceholder: SpanReplacement = (entity) => `<${entity}>`;

/** Every detector, most specific first (that order settles overlaps of equal reach). */
export function defaultValueDetectors(): ValueDetector[] {
  return [new EmailAddressDetector(), new IbanDetector(), new CreditCardDetector(), new UsSsnDetector(), new PhoneNumberDetector()];
}

/**
 * Defense in depth behind column masking: finds personal data by its shape in any text (a JSON
 * document from row_to_json, an error message, a free-text column) and replaces only the spans
 * found, leaving the rest of the text as it was.
 */
export class ValueScrubber {
  constructor(
    private readonly detectors: readonly ValueDetector[] = defaultValueDetectors(),
    private readonly replace: SpanReplacement = entityPlaceholder,
  ) {}

  /** False for a scrubber with no detectors (a principal policy lets read in clear): it never changes a value. */
  get detects(): boolean {
    return this.detectors.length > 0;
  }

  /**
   * Non-overlapping spans in text order; where two overlap, the earlier, then the longer, wins.
   * `bytes`: the bytes `text` is the latin1 view of, when it is one (see ValueDetector).
   */
  find(text: string, bytes?: Uint8Array): DetectedSpan[] {
    if (!mayHoldAny(text)) return [];
    const all = this.detectors.flatMap((detector) => detector.find(text, bytes));
    all.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start));
    const kept: DetectedSpan[] = [];
    for (const span of all) {
      if (kept.length === 0 || span.start >= kept.at(-1)!.end) kept.push(span);
    }
    return kept;
  }

  scrubText(text: string): { text: string; spans: DetectedSpan[] } {
    const spans = this.find(text);
    if (spans.length === 0) return { text, spans };
    let out = '';
    let at = 0;
    for (const span of spans) {
      out += text.slice(at, span.start) + this.replace(span.entity, text.slice(span.start, span.end));
      at = span.end;
    }
    return { text: out + text.slice(at), spans };
  }

  /**
   * The same on bytes (a result cell). The patterns are ASCII, so they run on a latin1 view whose
   * offsets are byte offsets; bytes outside the spans are kept exactly, whatever their encoding.
   * With nothing found the very same Buffer comes back.
   */
  scrubBytes(bytes: Buffer): { bytes: Buffer; spans: DetectedSpan[] } {
    const view = bytes.toString('latin1');
    const spans = this.find(view, bytes);
    return { bytes: this.replaceSpans(bytes, view, spans), spans };
  }

  /** Replaces spans found earlier on `view`, the latin1 view of `bytes` (or of bytes it starts). */
  replaceSpans(bytes: Buffer, view: string, spans: readonly DetectedSpan[]): Buffer {
    if (spans.length === 0) return bytes;
    const parts: Buffer[] = [];
    let at = 0;
    for (const span of spans) {
      parts.push(bytes.subarray(at, span.start), Buffer.from(this.replace(span.entity, view.slice(span.start, span.end)), 'utf8'));
      at = span.end;
    }
    parts.push(bytes.subarray(at));
    return Buffer.concat(parts);
  }
}

// Every entity needs an @ or a digit; most cells have neither and skip the detectors.
function mayHoldAny(text: string): boolean {
  return /[@0-9]/.test(text);
}
