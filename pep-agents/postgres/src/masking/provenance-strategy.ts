/**
 * The strategy for a value the server does not tie to a relation (an expression, any COPY
 * field), from what the PDP says it is computed from. The provenance names relations as the
 * statement does, unqualified; a name that is a view's (in any schema) stands for that view's
 * base columns when views are traced, and for something policy cannot see into otherwise.
 */
import { atLeastRedact, strictest, type MaskObligationIndex, type SourceColumn } from './mask-obligation-index.ts';
import type { ColumnOrigin } from './output-column-mapping.ts';
import type { OpaqueRelations, RelationKnowledge } from './relation-knowledge.ts';
import { viewColumnNamed, wholeViewLineage, type BaseColumn, type ColumnLineage } from './view-lineage.ts';

export interface ProvenanceContext {
  readonly obligations: MaskObligationIndex;
  readonly knowledge: RelationKnowledge;
  readonly opaqueRelations: OpaqueRelations;
}

export function strategyForOrigin(origin: ColumnOrigin, context: ProvenanceContext): string | undefined {
  switch (origin.kind) {
    case 'item':
      return strategyForSources(origin.output.derived_from, context, origin.output.is_value !== true);
    case 'stretch': {
      // Which of the stretch's columns this is, nobody can say: all of it counts, strictly.
      const hit = strategyForSources(origin.outputs.flatMap((output) => [...output.derived_from]), context);
      return hit === undefined ? undefined : atLeastRedact(hit);
    }
    case 'unknown':
      return context.obligations.forUnknownColumn();
  }
}

/** For a column that cannot be placed: the strictest of the obligations, at least redact. */
export function unplaceable(obligations: MaskObligationIndex): string {
  return atLeastRedact(obligations.forUnknownColumn() ?? 'redact');
}

/**
 * `computed`: the value is computed from its sources rather than being one of them as is; then,
 * and for a view column computed from its base columns, a strategy that keeps part of the value
 * gives way to each obligation's computed strategy: the policy's computed_strategy when it hides
 * the whole value (hash …), else redact, never weaker than the strategy itself.
 */
export function strategyForSources(sources: readonly SourceColumn[], context: ProvenanceContext, computed = true): string | undefined {
  const { obligations, knowledge, opaqueRelations } = context;
  if (opaqueRelations === 'show' || sources.length === 0) return obligations.forSourceColumns(sources, computed);
  if (knowledge.viewsByName === undefined) return unplaceable(obligations);
  const traced: BaseColumn[] = [];
  let transformed = computed;
  for (const source of sources) {
    for (const oid of knowledge.viewsByName.get(source.table.toLowerCase()) ?? []) {
      if (opaqueRelations !== 'trace') return unplaceable(obligations);
      const lineage = knowledge.lineages.get(oid);
      if (!lineage || lineage.kind === 'opaque') return unplaceable(obligations);
      const column: ColumnLineage | undefined = source.column === '*' ? wholeViewLineage(lineage) : viewColumnNamed(lineage, source.column);
      // A view of that name without that column is not the relation the statement read (the
      // provenance lists every relation a name may belong to, and every schema's views are here).
      if (column === undefined) continue;
      if (column.kind === 'opaque') return unplaceable(obligations);
      transformed ||= column.transformed;
      traced.push(...column.sources);
    }
  }
  // The names themselves still count: a table of the same name may be what was read.
  const hits = [obligations.forSourceColumns(sources, transformed), obligations.forBaseColumns(traced, transformed)].filter((hit): hit is string => hit !== undefined);
  return strictest(hits);
}
