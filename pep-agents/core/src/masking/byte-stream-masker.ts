import type { ByteStreamMaskV1 } from '@portcullis/contract';
import { CreditCardDetector } from './credit-card-detector.ts';
import { EmailAddressDetector } from './email-address-detector.ts';
import { IbanDetector } from './iban-detector.ts';
import type { MaskStrategyRegistry } from './mask-strategy-registry.ts';
import { PhoneNumberDetector } from './phone-number-detector.ts';
import { REDACTED_TEXT } from './typed-placeholder.ts';
import { UsSsnDetector } from './us-ssn-detector.ts';
import type { DetectedEntity, ValueDetector } from './value-detector.ts';
import { ValueScrubber } from './value-scrubber.ts';

/** The detector names a `byte-stream` mask obligation may list, and what each finds. */
const DETECTORS: Readonly<Record<string, () => ValueDetector>> = {
  email: () => new EmailAddressDetector(),
  'credit-card': () => new CreditCardDetector(),
  iban: () => new IbanDetector(),
  'us-ssn': () => new UsSsnDetector(),
  phone: () => new PhoneNumberDetector(),
};

/** Whether this SDK has every detector the obligations name (a PEP refuses the command when not). */
export function byteStreamMasksSupported(masks: readonly ByteStreamMaskV1[]): boolean {
  return masks.every((mask) => mask.detectors.every((name) => Object.hasOwn(DETECTORS, name)));
}

// Longer than any value a detector finds (an e-mail address: 64 + 1 + 253), so one that a chunk
// boundary cuts is still whole when it is looked for.
const DEFAULT_HOLD_BACK_BYTES = 512;

/**
 * Masks an output stream (a shell's stdout, a file read over SFTP) under `byte-stream`
 * obligations, chunk by chunk: the values the named detectors find are replaced by the
 * obligation's strategy, also when a value arrives split across chunks. It holds back the last
 * few hundred bytes of what arrived until more comes or the stream ends, and never sends part of
 * a value it found. Bytes outside the values pass exactly as they came.
 */
export class ByteStreamMasker {
  private held: Buffer = Buffer.alloc(0);
  private replaced = 0;

  constructor(
    private readonly scrubber: ValueScrubber,
    private readonly holdBackBytes: number = DEFAULT_HOLD_BACK_BYTES,
  ) {}

  /**
   * For the obligations that apply to `stream` (those naming it, and those naming none), or
   * `undefined` when none do. Unknown detector names throw: check `byteStreamMasksSupported` first.
   */
  static for(masks: readonly ByteStreamMaskV1[], stream: string, strategies: MaskStrategyRegistry): ByteStreamMasker | undefined {
    const applying = masks.filter((mask) => mask.stream === undefined || mask.stream === stream);
    if (applying.length === 0) return undefined;
    const strategyOf = new Map<DetectedEntity, string>();
    const detectors: ValueDetector[] = [];
    for (const mask of applying) {
      for (const name of mask.detectors) {
        const make = DETECTORS[name];
        if (!make) throw new Error(`no value detector named ${name}`);
        const detector = make();
        const earlier = strategyOf.get(detector.entity);
        // Two obligations asking different things of one kind of value: hide all of it.
        if (earlier === undefined) detectors.push(detector);
        strategyOf.set(detector.entity, earlier === undefined || earlier === mask.strategy ? mask.strategy : 'redact');
      }
    }
    return new ByteStreamMasker(
      new ValueScrubber(detectors, (entity, original) => strategies.get(strategyOf.get(entity) ?? 'redact').maskText(original) ?? REDACTED_TEXT),
    );
  }

  /** Values replaced so far. */
  get masked(): number {
    return this.replaced;
  }

  /** What may be sent now of the stream so far (possibly nothing). */
  push(chunk: Buffer): Buffer {
    const buffer = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    if (buffer.length <= this.holdBackBytes) {
      this.held = buffer;
      return Buffer.alloc(0);
    }
    const view = buffer.toString('latin1');
    const spans = this.scrubber.find(view, buffer);
    let cut = buffer.length - this.holdBackBytes;
    // A value found across the cut is held back whole; it is found again with what follows.
    for (const span of spans) if (span.start < cut && span.end > cut) cut = span.start;
    this.held = Buffer.from(buffer.subarray(cut));
    // Replaced as found with what follows them in view, so the cut changes no match before it.
    const before = spans.filter((span) => span.end <= cut);
    this.replaced += before.length;
    return this.scrubber.replaceSpans(buffer.subarray(0, cut), view, before);
  }

  /** The rest of the stream, masked: call once it ended. */
  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return this.scrub(rest);
  }

  private scrub(bytes: Buffer): Buffer {
    if (bytes.length === 0) return bytes;
    const { bytes: masked, spans } = this.scrubber.scrubBytes(bytes);
    this.replaced += spans.length;
    return masked;
  }
}
