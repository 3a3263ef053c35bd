import type { JsonPathMaskV1 } from '@portcullis/contract';
import { parseJsonPath, selectJsonPath, type JsonPathSegment } from './json-path.ts';
import type { MaskValueType } from './mask-strategy.ts';
import type { MaskStrategyRegistry } from './mask-strategy-registry.ts';

/** Whether every path of these obligations is one this SDK reads (a PEP refuses the command when not). */
export function jsonPathMasksSupported(masks: readonly JsonPathMaskV1[]): boolean {
  return masks.every((mask) => parseJsonPath(mask.path) !== undefined);
}

/**
 * Applies `json-path` mask obligations to a structured result (a Kubernetes object, an MCP tool
 * result): every value a path selects is hidden by the obligation's strategy; a selected object
 * or array has every value inside it hidden. Strings stay strings, numbers and booleans become
 * the strategy's text for them, null stays null. `mask` leaves the document given unchanged.
 */
export class JsonPathMasker {
  private constructor(
    private readonly paths: ReadonlyArray<{ readonly segments: readonly JsonPathSegment[]; readonly strategy: string }>,
    private readonly strategies: MaskStrategyRegistry,
  ) {}

  /** Unreadable paths throw: check `jsonPathMasksSupported` first. */
  static for(masks: readonly JsonPathMaskV1[], strategies: MaskStrategyRegistry): JsonPathMasker {
    return new JsonPathMasker(
      masks.map((mask) => {
        const segments = parseJsonPath(mask.path);
        if (!segments) throw new Error(`JSONPath not supported: ${mask.path}`);
        return { segments, strategy: mask.strategy };
      }),
      strategies,
    );
  }

  /** A masked copy of `document`, and how many values were hidden. */
  mask<T>(document: T): { readonly value: T; readonly masked: number } {
    return this.maskInPlace(structuredClone(document));
  }

  /**
   * Masks `document` itself, for a caller that owns it (one it has just parsed, shared with no
   * one): the copy `mask` makes costs as much as the masking.
   */
  maskInPlace<T>(document: T): { readonly value: T; readonly masked: number } {
    const copy = document;
    // A value two paths select is hidden once (by the first path that reaches it).
    const done = new WeakMap<object, Set<string | number>>();
    let masked = 0;
    const hide = (holder: Record<string, unknown> | unknown[], key: string | number, strategy: string): void => {
      const seen = done.get(holder) ?? new Set();
      done.set(holder, seen);
      if (seen.has(key)) return;
      seen.add(key);
      const value = (holder as Record<string | number, unknown>)[key];
      if (Array.isArray(value)) return value.forEach((_, index) => hide(value, index, strategy));
      if (typeof value === 'object' && value !== null) return Object.keys(value).forEach((inner) => hide(value as Record<string, unknown>, inner, strategy));
      if (value === null || value === undefined) return;
      (holder as Record<string | number, unknown>)[key] = this.strategies.get(strategy).maskText(String(value), typeOf(value));
      masked += 1;
    };
    for (const path of this.paths) selectJsonPath(copy, path.segments, (holder, key) => hide(holder, key, path.strategy));
    return { value: copy, masked };
  }
}

function typeOf(value: unknown): MaskValueType {
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'text';
}
