/**
 * View lineages on demand: the definition from the catalog, its outputs from the PDP's analyzer
 * (`POST /v1/sql/outputs`), views it reads resolved the same way first (to a bounded depth), the
 * result kept per view OID for the catalog's TTL. Never rejects: anything that fails makes the
 * view opaque (redacted whole, as before views were traced); failures that may pass (the PDP or
 * the catalog away) are not kept, so the next statement asks again.
 */
import type { SqlOutputsAnalyzer } from './sql-outputs-client.ts';
import { readStatementResultFacts } from './statement-result-facts.ts';
import { FIRST_NORMAL_OBJECT_ID, VIEW_KINDS, type ViewDefinitionSource } from './view-definition.ts';
import { opaqueView, traceViewColumns, type ViewLineage } from './view-lineage.ts';

/** What the masker asks about views. */
export interface ViewLineageSource {
  lineageOf(oid: number): Promise<ViewLineage>;
  /** The same without waiting, when it is kept and fresh; undefined otherwise. */
  cachedLineageOf(oid: number): ViewLineage | undefined;
  /** Views of each lower-case name (any schema): name → OIDs. Rejects when the catalog fails. */
  viewsNamed(names: readonly string[]): Promise<ReadonlyMap<string, readonly number[]>>;
  cachedViewsNamed(names: readonly string[]): ReadonlyMap<string, readonly number[]> | undefined;
  /** Forgets everything kept (a definition may have changed: DDL ran). */
  forget(): void;
}

export interface ViewLineageResolverOptions {
  /** As the catalog's: how long a lineage (and a name's views) is trusted. */
  readonly ttlMs?: number;
  /** Views over views beyond this are opaque. */
  readonly maxDepth?: number;
  readonly now?: () => number;
  /** Why a view could not be traced (names and reasons only, never values). */
  readonly log?: (message: string) => void;
}

const DEFAULT_TTL_MS = 60_000;
export const DEFAULT_MAX_VIEW_DEPTH = 8;

interface Kept<T> {
  readonly value: T;
  readonly expires: number;
}

export class ViewLineageResolver implements ViewLineageSource {
  private readonly lineages = new Map<number, Kept<ViewLineage>>();
  private readonly names = new Map<string, Kept<readonly number[]>>();
  private readonly inFlight = new Map<number, Promise<ViewLineage>>();
  private readonly ttlMs: number;
  private readonly maxDepth: number;
  private readonly now: () => number;
  /** Bumped by forget(): a look-up started before it must not refill the cache. */
  private generation = 0;

  constructor(
    private readonly definitions: ViewDefinitionSource,
    private readonly analyzer: SqlOutputsAnalyzer,
    private readonly options: ViewLineageResolverOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_VIEW_DEPTH;
    this.now = options.now ?? Date.now;
  }

  lineageOf(oid: number): Promise<ViewLineage> {
    return this.resolve(oid, []);
  }

  cachedLineageOf(oid: number): ViewLineage | undefined {
    return fresh(this.lineages.get(oid), this.now());
  }

  async viewsNamed(names: readonly string[]): Promise<ReadonlyMap<string, readonly number[]>> {
    const found = new Map<string, readonly number[]>();
    const missing: string[] = [];
    const now = this.now();
    for (const name of new Set(names.map((each) => each.toLowerCase()))) {
      const kept = fresh(this.names.get(name), now);
      if (kept) found.set(name, kept);
      else missing.push(name);
    }
    if (missing.length === 0) return found;
    const generation = this.generation;
    const loaded = await this.definitions.viewsNamed(missing);
    const expires = this.now() + this.ttlMs;
    for (const name of missing) {
      const oids = loaded.get(name) ?? [];
      found.set(name, oids);
      if (generation === this.generation) this.names.set(name, { value: oids, expires });
    }
    return found;
  }

  cachedViewsNamed(names: readonly string[]): ReadonlyMap<string, readonly number[]> | undefined {
    const found = new Map<string, readonly number[]>();
    const now = this.now();
    for (const name of names) {
      const kept = fresh(this.names.get(name.toLowerCase()), now);
      if (!kept) return undefined;
      found.set(name.toLowerCase(), kept);
    }
    return found;
  }

  forget(): void {
    this.generation += 1;
    this.lineages.clear();
    this.names.clear();
  }

  private resolve(oid: number, chain: readonly number[]): Promise<ViewLineage> {
    const kept = this.cachedLineageOf(oid);
    if (kept) return Promise.resolve(kept);
    // PostgreSQL allows no cycle of views; the check only keeps a confused catalog from looping.
    if (chain.includes(oid) || chain.length >= this.maxDepth) {
      return Promise.resolve(opaqueView(oid, `it is nested deeper than ${this.maxDepth} views`, true));
    }
    const pending = this.inFlight.get(oid);
    if (pending) return pending;
    const generation = this.generation;
    const loading = this.load(oid, chain).then((lineage) => {
      if (lineage.kind === 'opaque') this.options.log?.(`view ${oid} is redacted whole: ${lineage.reason}`);
      if (!lineage.provisional && generation === this.generation) this.lineages.set(oid, { value: lineage, expires: this.now() + this.ttlMs });
      return lineage;
    });
    this.inFlight.set(oid, loading);
    void loading.finally(() => this.inFlight.delete(oid));
    return loading;
  }

  private async load(oid: number, chain: readonly number[]): Promise<ViewLineage> {
    if (oid < FIRST_NORMAL_OBJECT_ID) return opaqueView(oid, 'it is a system view');
    let definition;
    try {
      definition = await this.definitions.definitionOf(oid);
    } catch {
      return opaqueView(oid, 'the catalog could not be read', true);
    }
    if (!definition) return opaqueView(oid, 'the catalog knows no such view');
    const named = `${definition.schema}.${definition.name}`;
    const analysis = await this.analyzer.outputsOf(definition.sql);
    if (analysis.kind === 'unavailable') return opaqueView(oid, `${named}: the PDP could not analyze it (${analysis.code})`, true);
    if (analysis.kind === 'refused') return opaqueView(oid, `${named}: the PDP's analyzer does not take its definition`);
    const outputs = readStatementResultFacts({ outputs: analysis.outputs })?.outputs;
    if (!outputs) return opaqueView(oid, `${named}: the PDP's answer is malformed`, true);

    // Only the views a column is computed from need their own lineage.
    const read = new Set(outputs.flatMap((output) => output.derived_from.map((source) => source.table.toLowerCase())));
    const nested = definition.dependencies.filter((dependency) =>
      VIEW_KINDS.has(dependency.kind) && dependency.oid >= FIRST_NORMAL_OBJECT_ID && read.has(dependency.name.toLowerCase()));
    const lineages = new Map<number, ViewLineage>();
    for (const lineage of await Promise.all(nested.map((dependency) => this.resolve(dependency.oid, [...chain, oid])))) lineages.set(lineage.oid, lineage);
    const traced = traceViewColumns(definition, { outputs, functions: analysis.functions }, (dependency) => lineages.get(dependency));
    return traced.kind === 'opaque' ? opaqueView(oid, `${named}: ${traced.reason}`, traced.provisional) : traced;
  }
}

function fresh<T>(kept: Kept<T> | undefined, now: number): T | undefined {
  return kept && kept.expires > now ? kept.value : undefined;
}
