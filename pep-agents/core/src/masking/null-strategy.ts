import type { MaskStrategy } from './mask-strategy.ts';

/** Replaces the value with NULL: nothing of it, not even its length, reaches the client. */
export class NullStrategy implements MaskStrategy {
  readonly name = 'null';

  maskText(): null {
    return null;
  }

  maskBytes(): null {
    return null;
  }
}
