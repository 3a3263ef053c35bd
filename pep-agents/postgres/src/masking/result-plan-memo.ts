/**
 * A session's last result plans, kept for the next statement described the same way under the
 * same decision: a session that runs one statement shape over and over (under a reused allow)
 * gets the same RowDescription, obligations and statement facts each time, and planning the
 * result again per statement was a visible part of the PEP's CPU.
 *
 * A plan is recalled only when everything it was made from is the same: the RowDescription's
 * bytes, the obligation index and the statement facts (the same objects: one per decision's
 * obligations and enrichment), Bind's result formats, how opaque relations are treated, and each
 * table the catalog placed its columns in (the catalog's cache still holds the same entry, so a
 * table the catalog has read again since is planned again). Plans that needed view names or view
 * lineages are never kept: those caches change on DDL, and such statements are planned each time.
 */
import type { CatalogResolver, CatalogTable } from './catalog-resolver.ts';
import type { ColumnPlan } from './column-mask-plan.ts';
import type { MaskObligationIndex } from './mask-obligation-index.ts';
import type { OpaqueRelations } from './relation-knowledge.ts';
import type { StatementResultFacts } from './statement-result-facts.ts';

/** What a plan was made from, apart from the RowDescription itself. */
export interface PlanInputs {
  readonly obligations: MaskObligationIndex;
  readonly facts: StatementResultFacts | undefined;
  readonly resultFormats: readonly number[] | undefined;
  readonly opaqueRelations: OpaqueRelations;
  readonly catalog: CatalogResolver;
}

interface KeptPlan {
  readonly description: Buffer;
  readonly inputs: PlanInputs;
  /** The catalog entries the plan read, by table OID (none: it read no table). */
  readonly tables: ReadonlyMap<number, CatalogTable>;
  readonly plan: ColumnPlan[];
}

/** Plans kept per session: a few shapes alternate in most sessions (a transaction's statements). */
const KEPT = 8;

export class ResultPlanMemo {
  private readonly kept: KeptPlan[] = [];

  /** The plan made earlier from these same inputs, if it still holds. */
  recall(description: Buffer, inputs: PlanInputs): ColumnPlan[] | undefined {
    for (let index = 0; index < this.kept.length; index += 1) {
      const kept = this.kept[index]!;
      if (!sameInputs(kept.inputs, inputs) || !kept.description.equals(description)) continue;
      if (!this.tablesUnchanged(kept, inputs.catalog)) {
        this.kept.splice(index, 1);
        return undefined;
      }
      return kept.plan;
    }
    return undefined;
  }

  /** Keeps a plan made from `inputs` and these catalog entries (and nothing about views). */
  keep(description: Buffer, inputs: PlanInputs, tables: ReadonlyMap<number, CatalogTable>, plan: ColumnPlan[]): void {
    // The message is a view of a whole socket read: the key keeps a copy of its own bytes alone.
    this.kept.unshift({ description: Buffer.from(description), inputs, tables, plan });
    if (this.kept.length > KEPT) this.kept.pop();
  }

  private tablesUnchanged(kept: KeptPlan, catalog: CatalogResolver): boolean {
    if (kept.tables.size === 0) return true;
    const now = catalog.cachedTablesByOid?.([...kept.tables.keys()]);
    if (!now) return false;
    for (const [oid, table] of kept.tables) if (now.get(oid) !== table) return false;
    return true;
  }
}

function sameInputs(a: PlanInputs, b: PlanInputs): boolean {
  return a.obligations === b.obligations && a.facts === b.facts && a.opaqueRelations === b.opaqueRelations && a.catalog === b.catalog && sameFormats(a.resultFormats, b.resultFormats);
}

function sameFormats(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}
