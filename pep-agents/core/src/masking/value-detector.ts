/** Kinds of personal data found by value, named as Presidio names its entities. */
export type DetectedEntity = 'EMAIL_ADDRESS' | 'PHONE_NUMBER' | 'US_SSN' | 'CREDIT_CARD' | 'IBAN_CODE';

/** A match in a text: `[start, end)` in UTF-16 code units of the text searched. */
export interface DetectedSpan {
  readonly entity: DetectedEntity;
  readonly start: number;
  readonly end: number;
}

/**
 * Finds one kind of value anywhere in a text, embedded or whole (a JSON document, a sentence).
 * Patterns are ASCII, so a detector may be run on a latin1 view of bytes with offsets intact; when
 * it is, `bytes` are those bytes, which a detector may scan instead of the text (faster in V8).
 */
export interface ValueDetector {
  readonly entity: DetectedEntity;
  find(text: string, bytes?: Uint8Array): DetectedSpan[];
}
