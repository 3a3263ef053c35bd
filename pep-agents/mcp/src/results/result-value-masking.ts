import type { ByteStreamMasker } from '@portcullis/pep-core';
import { jsonIndentOf } from './json-indent.ts';
import { hasObligations, type MaskingPlan } from './masking-plan.ts';
import { binaryKind, withheldBinary, withheldNotice } from './withheld-content.ts';

/** What became of one text: sent (masked as needed), or withheld because no mask could reach into it. */
export type MaskedText = { readonly text: string } | { readonly withheld: true };

// JSON inside a string inside JSON …: deeper than this, a string is not opened again (under paths it is withheld).
const MAX_NESTED_JSON = 4;

/**
 * The masking of the values of one result under a plan, counting what it hid.
 *
 * Structured values get the JSON paths, then every string in them is looked at: a string holding
 * a JSON document (a file's text a server repeats in `structuredContent`) is masked as one, other
 * strings get the detectors; member names stay. Binary content inside (an image block repeated
 * in `structuredContent`) is withheld under any obligation.
 *
 * A text that is a JSON document is masked as a structured value and written again; any other
 * text gets the detectors, and is withheld when JSON paths apply, since the values they name may
 * be in it in a form no path reaches (and so is the same text where the server repeats it in
 * `structuredContent`: content blocks are masked first).
 */
export class ResultValueMasking {
  private hidden = 0;
  /** Texts withheld so far: the same text repeated in structuredContent is withheld there too. */
  private readonly withheldTexts = new Set<string>();
  private readonly detectorMasker: ByteStreamMasker | undefined;
  private readonly withObligations: boolean;

  constructor(private readonly plan: MaskingPlan) {
    this.detectorMasker = plan.detectors?.();
    this.withObligations = hasObligations(plan);
  }

  /** Values hidden so far (paths, detector findings, withheld items). */
  get masked(): number {
    return this.hidden + (this.detectorMasker?.masked ?? 0);
  }

  /** Counts an item replaced whole (withheld). */
  withheld(): void {
    this.hidden += 1;
  }

  structured(document: unknown, depth = 0): unknown {
    let current = document;
    if (this.plan.paths) {
      const result = this.plan.paths.mask(current);
      current = result.value;
      this.hidden += result.masked;
    }
    return this.walk(current, depth);
  }

  text(text: string): MaskedText {
    const parsed = parseJsonDocument(text);
    if (parsed.ok) return { text: this.jsonText(text, parsed.value, 1) };
    if (this.plan.paths) {
      this.withheldTexts.add(text);
      return { withheld: true };
    }
    return { text: this.scrub(text) };
  }

  /** A value's strings through the detectors (and JSON in them through the paths), without the paths at its top. */
  scrubValue(value: unknown): unknown {
    return this.walk(value, 0);
  }

  /** Detector findings in free text (an error message, a log line). */
  scrub(text: string): string {
    let out = text;
    if (this.detectorMasker) {
      out = Buffer.concat([this.detectorMasker.push(Buffer.from(out, 'utf8')), this.detectorMasker.end()]).toString('utf8');
    }
    if (this.plan.scrubber) {
      const scrubbed = this.plan.scrubber.scrubText(out);
      this.hidden += scrubbed.spans.length;
      out = scrubbed.text;
    }
    return out;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.stringValue(value, depth);
    if (Array.isArray(value)) return value.map((item) => this.walk(item, depth));
    if (typeof value !== 'object' || value === null) return value;
    const object = value as Record<string, unknown>;
    const binary = binaryKind(object);
    if (binary !== undefined) {
      // The detectors read text only: without obligations, binary content stays as it came.
      if (!this.withObligations) return object;
      this.withheld();
      return withheldBinary(object, binary);
    }
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(object)) {
      // defineProperty: a member named "__proto__" stays a member instead of replacing the prototype.
      Object.defineProperty(copy, this.memberName(key, copy), { value: this.walk(inner, depth), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }

  /**
   * A member name through the detectors: maps keyed by personal data (`{"ann@example.com": {…}}`)
   * are common. Two names masked alike stay two members (`****`, `**** 2`), so no value is lost.
   */
  private memberName(key: string, siblings: Record<string, unknown>): string {
    if (this.detectorMasker === undefined && this.plan.scrubber === undefined) return key;
    const scrubbed = this.scrub(key);
    if (scrubbed === key) return key;
    let name = scrubbed;
    for (let n = 2; Object.hasOwn(siblings, name); n += 1) name = `${scrubbed} ${n}`;
    return name;
  }

  private stringValue(text: string, depth: number): string {
    if (this.withheldTexts.has(text)) {
      this.withheld();
      return withheldNotice('text that is not JSON');
    }
    const parsed = parseJsonDocument(text);
    if (!parsed.ok) return this.scrub(text);
    if (depth + 1 > MAX_NESTED_JSON) {
      if (!this.plan.paths) return this.scrub(text);
      this.withheld();
      return withheldNotice('deeply nested JSON');
    }
    return this.jsonText(text, parsed.value, depth + 1);
  }

  /**
   * A JSON text masked as its value. Under JSON paths it is always written again from the parsed
   * value, so a member name given twice (of which parsers keep different ones) cannot carry a
   * value past them. Otherwise the text stays as the server wrote it (a file read byte for byte)
   * unless something is found in its values, or in the text itself (a value hidden behind a
   * repeated name), or it escapes characters the detectors would not read.
   */
  private jsonText(text: string, value: unknown, depth: number): string {
    const before = this.masked;
    const masked = this.structured(value, depth);
    const foundInValues = this.masked - before;
    if (this.plan.paths === undefined && foundInValues === 0) {
      const rawFindings = this.countInText(text);
      if (rawFindings === 0 && !text.includes('\\u')) return text;
      this.hidden += rawFindings;
    }
    // The trailing newline a server (or a file) ends with stays.
    return JSON.stringify(masked, null, jsonIndentOf(text)) + (/\s*$/.exec(text)?.[0] ?? '');
  }

  private countInText(text: string): number {
    let found = 0;
    if (this.plan.scrubber) found += this.plan.scrubber.find(text).length;
    if (this.plan.detectors) {
      const probe = this.plan.detectors();
      probe.push(Buffer.from(text, 'utf8'));
      probe.end();
      found += probe.masked;
    }
    return found;
  }
}

/** Only a document (object or array) counts as JSON here: "42" or "true" is plain text. */
function parseJsonDocument(text: string): { ok: true; value: unknown } | { ok: false } {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
