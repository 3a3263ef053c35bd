import { maskDocument } from './document-masker.ts';
import { JsonFramingError, JsonValueFramer } from './json-value-framer.ts';
import type { MaskingPlan } from './masking-plan.ts';
import type { WithheldReason } from './withheld-response.ts';

/** A response body rewritten as it arrives: what each chunk lets through, then the rest. */
export interface MaskedBody {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
  readonly masked: number;
}

/** A body that cannot be masked as it goes on; its reason is a fixed text (never the body). */
export class UnmaskableBodyError extends Error {
  override readonly name = 'UnmaskableBodyError';
  constructor(readonly reason: WithheldReason) {
    super(reason);
  }
}

/**
 * JSON documents one after another (a get or list body, or a watch stream's events), each masked
 * once whole and sent on at once, followed by a newline as the API server frames watch events.
 */
export function maskedJsonBody(plan: MaskingPlan): MaskedBody {
  const framer = new JsonValueFramer(plan.maxMaskedValueBytes);
  let masked = 0;
  const mask = (bytes: Buffer): Buffer => {
    let document: unknown;
    try {
      document = JSON.parse(bytes.toString('utf8'));
    } catch {
      // JSON.parse quotes the text it failed on: the reason is named, the error dropped.
      throw new UnmaskableBodyError('malformed-json');
    }
    // Parsed here for this answer alone: masked in place.
    const result = maskDocument(document, plan, true);
    masked += result.masked;
    return Buffer.from(`${JSON.stringify(result.document)}\n`, 'utf8');
  };
  const framed = <T>(step: () => T): T => {
    try {
      return step();
    } catch (error) {
      if (error instanceof JsonFramingError) throw new UnmaskableBodyError(error.message.includes('exceeds') ? 'too-large' : 'malformed-json');
      throw error;
    }
  };
  return {
    push: (chunk) => {
      const values = framed(() => framer.push(chunk));
      return values.length === 0 ? EMPTY : Buffer.concat(values.map(mask));
    },
    end: () => {
      framed(() => framer.end());
      return EMPTY;
    },
    get masked() {
      return masked;
    },
  };
}

/**
 * Text (pod logs) through the detectors, sent on as it arrives: what the masker holds back is
 * flushed at each chunk that ends a line, since no detected value spans a line break, so `logs
 * -f` shows a line when it is written rather than when more follows.
 */
export function maskedTextBody(plan: MaskingPlan): MaskedBody {
  const masker = plan.detectorMasker!();
  return {
    push: (chunk) => {
      const now = masker.push(chunk);
      return chunk.at(-1) === NEWLINE ? Buffer.concat([now, masker.end()]) : now;
    },
    end: () => masker.end(),
    get masked() {
      return masker.masked;
    },
  };
}

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
