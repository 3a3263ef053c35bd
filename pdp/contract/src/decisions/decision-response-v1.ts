import { Type, type Static } from '@sinclair/typebox';
import { MaskTargetV1 } from './mask-obligation-v1.ts';

/**
 * `POST /v1/decisions`, the answer, version 1. A deny is an answer, not an error. Extend by
 * adding optional fields, never by changing one.
 */

export const EffectV1 = Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('approval_required')], { $id: 'EffectV1' });
export type EffectV1 = Static<typeof EffectV1>;

export const ReasonV1 = Type.Object({ code: Type.String({ description: 'kebab-case, stable' }), message: Type.String() }, { $id: 'ReasonV1' });
export type ReasonV1 = Static<typeof ReasonV1>;

export const ObligationsV1 = Type.Object(
  {
    mask: Type.Array(MaskTargetV1),
    record: Type.Boolean({ description: 'The PEP records the session (session events)' }),
    /** The principal reads personal data in clear (no value detectors, views as any relation). */
    unmasked: Type.Optional(Type.Boolean({ description: 'The principal reads personal data in clear' })),
    /**
     * `mask` names every sensitive column there is, not only those the statement names: a PEP may
     * then mask a column it traces to base columns (a view's) by `mask`; otherwise it must redact it.
     */
    mask_complete: Type.Optional(Type.Boolean({ description: '`mask` names every sensitive column there is, not only those the statement names' })),
    /** tools/list (MCP): the tools policy never lets this principal call, which the PEP removes from the list. */
    hidden_tools: Type.Optional(Type.Array(Type.String(), { description: 'MCP tools/list: the tools policy never lets this principal call; the PEP removes them from the list' })),
  },
  { $id: 'ObligationsV1', additionalProperties: true, description: 'Further obligations a policy adds pass through under their own names' },
);
/** Policies may add obligations of their own names: they pass through. */
export type ObligationsV1 = Static<typeof ObligationsV1> & { [extension: string]: unknown };

export const ApprovalV1 = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    status: Type.String(),
    expires_at: Type.String({ format: 'date-time' }),
    /** For a window approval: until when it covers the principal's held commands on the resource. */
    window_ends_at: Type.Optional(Type.String({ format: 'date-time', description: "For a window approval: until when it covers the principal's held commands on the resource" })),
    /** Where a person approves it (the web console), when the PDP knows its public URL. */
    console_url: Type.Optional(Type.String({ description: 'Where a person approves it (the web console)' })),
  },
  { $id: 'ApprovalV1', description: 'The approval an approval_required answer opened (or found)' },
);
export type ApprovalV1 = Static<typeof ApprovalV1>;

export const PrincipalKindV1 = Type.Union([Type.Literal('agent'), Type.Literal('human')], { $id: 'PrincipalKindV1' });
export type PrincipalKindV1 = Static<typeof PrincipalKindV1>;

export const PrincipalV1 = Type.Object(
  {
    sub: Type.Union([Type.String(), Type.Null()]),
    iss: Type.Union([Type.String(), Type.Null()]),
    kind: PrincipalKindV1,
    authenticated: Type.Boolean(),
    /** When the subject token expires (ISO 8601): a PEP stops relying on this answer from then on. */
    expires_at: Type.Optional(Type.String({ format: 'date-time', description: 'When the subject token expires: a PEP stops relying on the answer then' })),
    /** The verified token's roles (a PEP impersonating the principal sends them as groups); absent when unauthenticated. */
    roles: Type.Optional(Type.Array(Type.String(), { description: "The verified token's roles (e.g. impersonation groups); absent when unauthenticated" })),
  },
  { $id: 'PrincipalV1' },
);
export type PrincipalV1 = Static<typeof PrincipalV1>;

/** A cursor statement's cursor: a PEP masks FETCH's rows by the outputs of the DECLARE of that name. */
export const EnrichmentCursorV1 = Type.Object(
  {
    /** As the server knows it (unquoted names lower-cased, quoted ones exact); null for CLOSE ALL. */
    name: Type.Union([Type.String(), Type.Null()]),
    operation: Type.Union([Type.Literal('declare'), Type.Literal('fetch'), Type.Literal('move'), Type.Literal('close')]),
    /** DECLARE … WITH HOLD: the cursor outlives the commit of its transaction. */
    hold: Type.Boolean(),
  },
  { $id: 'EnrichmentCursorV1' },
);
export type EnrichmentCursorV1 = Static<typeof EnrichmentCursorV1>;

/**
 * What the PDP's parse found that a PEP needs to enforce the answer (SQL: per statement, the
 * result columns and what each is computed from, and COPY's row format), so no PEP parses SQL.
 */
export const EnrichmentV1 = Type.Object(
  {
    statements: Type.Array(
      Type.Object({
        kind: Type.String(),
        outputs: Type.Union([Type.Array(Type.Unknown()), Type.Null()]),
        copy_format: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
        /** DECLARE, FETCH, MOVE, CLOSE: the cursor the statement is about (absent for other statements). */
        cursor: Type.Optional(EnrichmentCursorV1),
      }),
    ),
  },
  { $id: 'EnrichmentV1', description: "What the PDP's parse found that a PEP needs to enforce the answer, so no PEP parses SQL" },
);
export type EnrichmentV1 = Static<typeof EnrichmentV1>;

/**
 * An allow that also holds, in the same session, for statements whose text differs from the
 * decided one in literal values alone (numbers and quoted strings), until `expires_at`. Granted
 * only when policy opts in and the PDP judged the statement's kind literal-insensitive (plain
 * DML); the PEP records each statement it runs under it with this decision_id.
 */
export const DecisionReuseV1 = Type.Object(
  { scope: Type.Literal('statement-shape'), expires_at: Type.String({ format: 'date-time' }) },
  { $id: 'DecisionReuseV1', description: 'The allow also holds for same-shape statements of the session until expires_at' },
);
export type DecisionReuseV1 = Static<typeof DecisionReuseV1>;

/**
 * A SQL text the PostgreSQL parser rejected (always a deny): the parser's message and 1-based
 * character position, so a PEP can answer as the database would (SQLSTATE 42601, field P).
 */
export const SyntaxErrorV1 = Type.Object({ message: Type.String(), position: Type.Integer({ minimum: 1 }) }, { $id: 'SyntaxErrorV1' });
export type SyntaxErrorV1 = Static<typeof SyntaxErrorV1>;

export const DecisionResponseV1 = Type.Object(
  {
    decision_id: Type.String({ minLength: 1 }),
    effect: EffectV1,
    reasons: Type.Array(ReasonV1),
    obligations: ObligationsV1,
    approval: Type.Optional(ApprovalV1),
    /** SQL actions that are not denied: see EnrichmentV1. */
    enrichment: Type.Optional(EnrichmentV1),
    /** Present only when policy lets this allow stand for more statements: see DecisionReuseV1. */
    reuse: Type.Optional(DecisionReuseV1),
    principal: PrincipalV1,
    policy_revision: Type.Union([Type.String(), Type.Null()]),
    syntax_error: Type.Optional(SyntaxErrorV1),
  },
  { $id: 'DecisionResponseV1' },
);
export type DecisionResponseV1 = Omit<Static<typeof DecisionResponseV1>, 'obligations'> & { obligations: ObligationsV1 };

/**
 * What a PEP must be able to read in an answer before it enforces anything; an answer without
 * it is refused (fail closed). The rest (principal names, reuse, enrichment, syntax error) a PEP
 * reads leniently: an unreadable part is dropped, never trusted.
 */
export const DecisionAnswerEssentialsV1 = Type.Object({
  decision_id: Type.String({ minLength: 1 }),
  effect: EffectV1,
  reasons: Type.Array(ReasonV1),
  obligations: Type.Object({ mask: Type.Array(MaskTargetV1), record: Type.Optional(Type.Boolean()) }),
  principal: Type.Object({ authenticated: Type.Boolean() }),
  policy_revision: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  approval: Type.Optional(Type.Object({ id: Type.String({ minLength: 1 }), status: Type.String(), expires_at: Type.String() })),
});
export type DecisionAnswerEssentialsV1 = Static<typeof DecisionAnswerEssentialsV1>;
