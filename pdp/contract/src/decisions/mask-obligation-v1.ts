import { Type, type Static } from '@sinclair/typebox';

/**
 * What a mask obligation hides, by the shape of what the PEP relays. The set grows additively:
 * a PEP enforces the kinds it knows and refuses (fails closed on) an answer naming any other.
 *
 * - `sql-column` (the kind when `kind` is absent, as every V1 PDP sends it): a column of a table
 *   in SQL results, by name.
 * - `json-path`: the values a JSONPath (RFC 9535) selects in a structured result: a Kubernetes
 *   object, an MCP tool result.
 * - `byte-stream`: an unstructured stream (a shell's output) scanned by value detectors, each
 *   finding replaced.
 */
export const MASK_KINDS = ['sql-column', 'json-path', 'byte-stream'] as const;
export type MaskKindV1 = (typeof MASK_KINDS)[number];

const Strategy = Type.String({ minLength: 1, description: 'How the value is hidden: redact, partial, hash, null …' });

export const SqlColumnMaskV1 = Type.Object(
  {
    kind: Type.Optional(Type.Literal('sql-column')),
    table: Type.String(),
    column: Type.String(),
    strategy: Type.String({ description: 'How the value is hidden: redact, partial, hash, null …' }),
    /**
     * For a value computed from the column (reverse(email), split_part(…)) rather than the column
     * as is: a strategy that hides all of it (hash, redact, null). Absent: redact. A PEP never
     * applies one weaker than `strategy`, nor one that keeps part of the value.
     */
    computed_strategy: Type.Optional(Type.String({ description: 'For a value computed from the column: a strategy hiding all of it (absent: redact)' })),
  },
  { $id: 'SqlColumnMaskV1', description: 'A column of a table in SQL results' },
);
export type SqlColumnMaskV1 = Static<typeof SqlColumnMaskV1>;
/** The V1 name of the SQL column mask, kept for the PEPs that know no other kind. */
export type MaskObligationV1 = SqlColumnMaskV1;

export const JsonPathMaskV1 = Type.Object(
  {
    kind: Type.Literal('json-path'),
    /** RFC 9535 JSONPath into the result document, e.g. `$.data.*` of a Secret, `$.content[*].text`. */
    path: Type.String({ minLength: 1, description: 'RFC 9535 JSONPath into the structured result' }),
    strategy: Strategy,
  },
  { $id: 'JsonPathMaskV1', description: 'Values a JSONPath selects in a structured result (Kubernetes object, MCP tool result)' },
);
export type JsonPathMaskV1 = Static<typeof JsonPathMaskV1>;

export const ByteStreamMaskV1 = Type.Object(
  {
    kind: Type.Literal('byte-stream'),
    /** Which stream of the session (e.g. `stdout`, `stderr`); absent: every output stream. */
    stream: Type.Optional(Type.String({ minLength: 1 })),
    /** Value detectors by entity name (`email`, `credit-card`, `iban`, `us-ssn`, `phone` …); a PEP lacking one refuses. */
    detectors: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    strategy: Strategy,
  },
  { $id: 'ByteStreamMaskV1', description: 'An output stream scanned by value detectors, each finding hidden' },
);
export type ByteStreamMaskV1 = Static<typeof ByteStreamMaskV1>;

export const MaskTargetV1 = Type.Union([SqlColumnMaskV1, JsonPathMaskV1, ByteStreamMaskV1], { $id: 'MaskTargetV1' });
export type MaskTargetV1 = Static<typeof MaskTargetV1>;

/** The kind of a mask obligation (`sql-column` when it names none). */
export function maskKind(mask: MaskTargetV1): MaskKindV1 {
  return mask.kind ?? 'sql-column';
}

/** The mask obligation type of each kind. */
export type MaskOfKind<K extends MaskKindV1> = K extends 'json-path' ? JsonPathMaskV1 : K extends 'byte-stream' ? ByteStreamMaskV1 : SqlColumnMaskV1;
