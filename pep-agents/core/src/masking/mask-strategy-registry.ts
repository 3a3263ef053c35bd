import type { KeyObject } from 'node:crypto';
import { HashStrategy } from './hash-strategy.ts';
import type { MaskStrategy } from './mask-strategy.ts';
import { NullStrategy } from './null-strategy.ts';
import { PartialStrategy } from './partial-strategy.ts';
import { RedactStrategy } from './redact-strategy.ts';

/** The strategies a mask obligation may name. */
export const MASK_STRATEGY_NAMES = ['redact', 'partial', 'hash', 'null'] as const;

/**
 * Strategies by name. A name it does not know gets the strictest strategy (redact): an
 * obligation is never ignored, whatever a newer policy asks for.
 */
export class MaskStrategyRegistry {
  private readonly byName = new Map<string, MaskStrategy>();

  constructor(strategies: Iterable<MaskStrategy>, private readonly strictest: MaskStrategy = new RedactStrategy()) {
    for (const strategy of strategies) this.byName.set(strategy.name, strategy);
  }

  get(name: string): MaskStrategy {
    return this.byName.get(name.trim().toLowerCase()) ?? this.strictest;
  }

  knows(name: string): boolean {
    return this.byName.has(name.trim().toLowerCase());
  }
}

/**
 * The standard strategies. Without a hash key, `hash` redacts: a pseudonym from a throwaway key
 * would differ per process and mislead, and no key must never mean no masking.
 */
export function createMaskStrategyRegistry(options: { hashKey?: KeyObject } = {}): MaskStrategyRegistry {
  const redact = new RedactStrategy();
  const hash: MaskStrategy = options.hashKey ? new HashStrategy(options.hashKey) : alias(redact, 'hash');
  return new MaskStrategyRegistry([redact, new PartialStrategy(), hash, new NullStrategy()], redact);
}

function alias(strategy: MaskStrategy, name: string): MaskStrategy {
  return { name, maskText: (value, type) => strategy.maskText(value, type), maskBytes: (value, type) => strategy.maskBytes(value, type) };
}
