import type { MaskStrategy, MaskValueType } from './mask-strategy.ts';
import { typedPlaceholder } from './typed-placeholder.ts';

/** Replaces the whole value with a fixed placeholder of its type (`****` for text). */
export class RedactStrategy implements MaskStrategy {
  readonly name = 'redact';

  maskText(_value: string, type?: MaskValueType): string {
    return typedPlaceholder(type);
  }

  maskBytes(_value: Buffer, type?: MaskValueType): Buffer {
    return Buffer.from(typedPlaceholder(type), 'utf8');
  }
}
