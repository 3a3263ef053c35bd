/**
 * The decision's mask obligations, indexed for the two questions the masker asks: which strategy
 * does this catalog column get, and which does a value computed from these source columns get.
 * Where several obligations apply, the strictest wins.
 */
import type { MaskObligationV1 } from '@portcullis/pep-core';
import type { CatalogColumn } from './catalog-resolver.ts';

/** A column a result is computed from, as the PDP's output provenance names it ("*" = whole row). */
export interface SourceColumn {
  readonly table: string;
  readonly column: string;
}

/** How much each strategy shows: higher hides more. Unknown names count as redact (what the registry applies). */
const STRICTNESS: Readonly<Record<string, number>> = { partial: 1, hash: 2, redact: 3, null: 4 };

export function strictness(strategy: string): number {
  return STRICTNESS[strategy.trim().toLowerCase()] ?? STRICTNESS.redact!;
}

export function strictest(strategies: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const strategy of strategies) if (best === undefined || strictness(strategy) > strictness(best)) best = strategy;
  return best;
}

/**
 * For a value computed from a masked column (reverse(email), split_part(…), substr, ||): a
 * strategy that keeps part of the value (partial) would keep the wrong part, so it hides the
 * whole value instead; strategies that already hide all of it (hash, redact, null) stay.
 */
export function forComputedValue(strategy: string): string {
  return strictness(strategy) >= STRICTNESS.hash! ? strategy : 'redact';
}

/** For a column the masker cannot place: hide everything, whatever the obligations would show. */
export function atLeastRedact(strategy: string): string {
  return strictness(strategy) >= STRICTNESS.redact! ? strategy : 'redact';
}

interface IndexedObligation {
  readonly schema: string | undefined;
  readonly column: string;
  readonly strategy: string;
  /** For a value computed from the column (see forComputedValue and the obligation's computed_strategy). */
  readonly computed: string;
}

/** The obligation's computed_strategy when it hides the whole value, else redact; never weaker than its strategy. */
function computedStrategyOf(obligation: MaskObligationV1): string {
  const asked = forComputedValue(obligation.computed_strategy ?? obligation.strategy);
  return strictest([asked, obligation.strategy]) as string;
}

/** The index of each obligations list seen lately: a reused decision's statements share its list. */
const indexed = new WeakMap<readonly MaskObligationV1[], MaskObligationIndex>();

export class MaskObligationIndex {
  /** The index of `obligations`, built once per list (a decision's obligations are never changed). */
  static of(obligations: readonly MaskObligationV1[]): MaskObligationIndex {
    let index = indexed.get(obligations);
    if (index === undefined) {
      index = new MaskObligationIndex(obligations);
      indexed.set(obligations, index);
    }
    return index;
  }

  /** By table name (lower case, schema split off). */
  private readonly byTable = new Map<string, IndexedObligation[]>();
  private readonly all: readonly MaskObligationV1[];

  constructor(obligations: readonly MaskObligationV1[]) {
    this.all = obligations;
    for (const obligation of obligations) {
      const { schema, table } = splitTableName(obligation.table);
      const list = this.byTable.get(table) ?? [];
      list.push({ schema, column: obligation.column.toLowerCase(), strategy: obligation.strategy, computed: computedStrategyOf(obligation) });
      this.byTable.set(table, list);
    }
  }

  get isEmpty(): boolean {
    return this.all.length === 0;
  }

  /** The strategy for a plain table column the server identified (RowDescription OID + attnum). */
  forCatalogColumn(column: CatalogColumn): string | undefined {
    const candidates = this.byTable.get(column.table.toLowerCase()) ?? [];
    const name = column.column.toLowerCase();
    const schema = column.schema.toLowerCase();
    return strictest(
      candidates
        .filter((obligation) => obligation.column === name && (obligation.schema === undefined || obligation.schema === schema))
        .map((obligation) => obligation.strategy),
    );
  }

  /**
   * The strategy for a value from these source columns (schema unknown: any matches); `computed`:
   * computed from them rather than one of them as is, which gets each obligation's computed strategy.
   */
  forSourceColumns(sources: Iterable<SourceColumn>, computed = false): string | undefined {
    const hits: string[] = [];
    for (const source of sources) {
      const candidates = this.byTable.get(source.table.toLowerCase()) ?? [];
      const name = source.column.toLowerCase();
      for (const obligation of candidates) if (name === '*' || obligation.column === name) hits.push(computed ? obligation.computed : obligation.strategy);
    }
    return strictest(hits);
  }

  /** The strategy for a value from these catalog columns (a view's); column "*" is the whole row; `computed` as above. */
  forBaseColumns(columns: Iterable<CatalogColumn>, computed = false): string | undefined {
    const hits: string[] = [];
    for (const column of columns) {
      const schema = column.schema.toLowerCase();
      const name = column.column.toLowerCase();
      for (const obligation of this.byTable.get(column.table.toLowerCase()) ?? []) {
        if (name !== '*' && obligation.column !== name) continue;
        if (obligation.schema === undefined || obligation.schema === schema) hits.push(computed ? obligation.computed : obligation.strategy);
      }
    }
    return strictest(hits);
  }

  /** What a column gets when the masker cannot tell where it comes from. */
  forUnknownColumn(): string | undefined {
    const overall = strictest(this.all.map((obligation) => obligation.strategy));
    return overall === undefined ? undefined : atLeastRedact(overall);
  }
}

/** `public.users` → public, users; `users` → no schema. Lower case, as policy writes names. */
export function splitTableName(name: string): { schema: string | undefined; table: string } {
  const dot = name.lastIndexOf('.');
  const lower = name.toLowerCase();
  return dot === -1 ? { schema: undefined, table: lower } : { schema: lower.slice(0, dot), table: lower.slice(dot + 1) };
}
