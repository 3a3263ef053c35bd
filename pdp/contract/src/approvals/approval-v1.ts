import { Type, type Static } from '@sinclair/typebox';
import { APPROVAL_ID_PATTERN } from '../decisions/decision-request-v1.ts';
import { PrincipalKindV1, ReasonV1 } from '../decisions/decision-response-v1.ts';

/**
 * Approvals as the HTTP API (`/v1/approvals`) and the consoles (WebSocket `/v1/ws`) see them,
 * version 1 (docs/approvals-protocol.md). A record is sent whole; `version` grows with every
 * change, so a client keeps the highest it saw.
 */

/** Where an approval stands. `approved` waits to be consumed once; the rest are final. */
export const ApprovalStateV1 = Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied'), Type.Literal('expired'), Type.Literal('executed')], {
  $id: 'ApprovalStateV1',
  description: '`approved` waits to be consumed once; denied, expired and executed are final',
});
export type ApprovalState = Static<typeof ApprovalStateV1>;

export const ApprovalIdV1 = Type.String({ pattern: APPROVAL_ID_PATTERN, maxLength: 64, description: 'A UUID' });

export const ApprovalVerdictKindV1 = Type.Union([Type.Literal('approve'), Type.Literal('deny')], { $id: 'ApprovalVerdictKindV1', errorMessage: 'must be "approve" or "deny"' });
export type ApprovalVerdictKind = Static<typeof ApprovalVerdictKindV1>;

/** One vote on an approval. */
export const ApprovalVoteV1 = Type.Object(
  {
    approver: Type.String(),
    /** The issuer of the approver's token. */
    iss: Type.Optional(Type.String()),
    /** The voter's kind, from their verified token (absent only in records from before it was kept). */
    kind: Type.Optional(PrincipalKindV1),
    verdict: ApprovalVerdictKindV1,
    reason: Type.String(),
    at: Type.String({ format: 'date-time' }),
  },
  { $id: 'ApprovalVoteV1' },
);
export type ApprovalVoteV1 = Static<typeof ApprovalVoteV1>;

/** `[start, end, kind]` UTF-16 offsets into a SQL text, as PostgreSQL's lexer has them. */
const SqlSpansV1 = Type.Array(Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 }), Type.Union([Type.Literal('comment'), Type.Literal('string'), Type.Literal('identifier'), Type.Literal('keyword'), Type.Literal('parameter')])]));

/** How the consoles show the action, computed once by the PDP when the approval opens. */
export const ActionDisplayV1 = Type.Object(
  {
    /** SQL only: `[start, end, kind]` UTF-16 offsets into `action.sql`, as PostgreSQL's lexer has them. */
    sql_spans: Type.Optional(SqlSpansV1),
    /**
     * MCP tool calls: the arguments policy data names, by name, with their kind (sql, shell, path)
     * and, for SQL, the lexer's spans over `action.arguments[name]`; other arguments show as JSON.
     */
    mcp_arguments: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object({ kind: Type.Union([Type.Literal('sql'), Type.Literal('shell'), Type.Literal('path')]), sql_spans: Type.Optional(SqlSpansV1) }),
        { description: 'MCP tool calls: the analysed arguments by name, their kind, SQL lexer spans' },
      ),
    ),
    /** Hidden characters anywhere in the action, by name (CR, RLO, ZWSP …). */
    hidden: Type.Array(Type.Object({ name: Type.String(), count: Type.Integer({ minimum: 1 }) })),
    /** Why an approver should look twice; empty when nothing is suspicious. */
    suspicious: Type.Array(Type.String()),
  },
  { $id: 'ActionDisplayV1' },
);
export type ActionDisplayV1 = Static<typeof ActionDisplayV1>;

/** One held command and the votes on it, as clients see it (the PDP keeps its binding hash to itself). */
export const ApprovalRecordV1 = Type.Object(
  {
    id: Type.String(),
    status: ApprovalStateV1,
    requester: Type.Object({ sub: Type.String(), iss: Type.Optional(Type.String()), kind: PrincipalKindV1 }),
    resource: Type.Object({ type: Type.String(), name: Type.String(), environment: Type.Optional(Type.String()) }),
    /** The decision whose effect was approval_required. */
    decision_id: Type.String(),
    /** The action as the PEP sent it (an ActionV1): what the approver judges. */
    action: Type.Record(Type.String(), Type.Unknown(), { description: 'The action as the PEP sent it (ActionV1): what the approver judges' }),
    /** What the approver reads first: one line naming the command. */
    action_summary: Type.String(),
    action_display: Type.Optional(ActionDisplayV1),
    /** Present when the action was shortened for a list: ask for the approval by id for all of it. */
    action_truncated: Type.Optional(Type.Object({ shown_chars: Type.Integer({ minimum: 0 }), total_chars: Type.Integer({ minimum: 0 }) })),
    session: Type.Optional(Type.Object({ id: Type.Optional(Type.String()), client_addr: Type.Optional(Type.String()) })),
    /** The policy's reasons for asking. */
    reasons: Type.Array(ReasonV1),
    /** Opt-in (policy): once approved, it covers the requester's held commands on the resource until `window_ends_at`. */
    window_seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    window_ends_at: Type.Optional(Type.String({ format: 'date-time' })),
    /** Commands run under this approval (a window's count; 1 once a per-command approval ran). */
    uses: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Distinct approvers needed. */
    quorum: Type.Integer({ minimum: 1 }),
    /** An approver needs one of these roles; an empty list means nobody may approve. */
    approver_roles: Type.Array(Type.String()),
    /** The kinds of principal that may vote (absent in older records: humans). */
    approver_kinds: Type.Optional(Type.Array(PrincipalKindV1)),
    decisions: Type.Array(ApprovalVoteV1),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time' }),
    /** When it left `pending`. */
    resolved_at: Type.Optional(Type.String({ format: 'date-time' })),
    /** Grows by one with every change: keep the highest version of a record. */
    version: Type.Integer({ minimum: 0 }),
  },
  { $id: 'ApprovalRecordV1' },
);
export type ApprovalRecordV1 = Static<typeof ApprovalRecordV1>;

/** `POST /v1/approvals/{id}/votes`. */
export const ApprovalVoteRequestV1 = Type.Object(
  {
    verdict: ApprovalVerdictKindV1,
    /** Required for a deny (else 400 reason-required). */
    reason: Type.Optional(Type.String({ maxLength: 2000, errorMessage: 'must be a string of at most 2000 characters' })),
  },
  { $id: 'ApprovalVoteRequestV1' },
);
export type ApprovalVoteRequestV1 = Static<typeof ApprovalVoteRequestV1>;

/** `GET /v1/approvals/{id}` and `POST /v1/approvals/{id}/votes`. */
export const ApprovalAnswerV1 = Type.Object({ approval: ApprovalRecordV1 }, { $id: 'ApprovalAnswerV1' });
export type ApprovalAnswerV1 = Static<typeof ApprovalAnswerV1>;

/** `GET /v1/approvals`: one page of the pending queue, soonest expiry first, long actions shortened. */
export const ApprovalQueuePageV1 = Type.Object(
  {
    /** Events after this cursor follow (WebSocket `resume_from`). */
    cursor: Type.String(),
    pending: Type.Array(ApprovalRecordV1),
    /** Pass as `page` for the next page; absent on the last. */
    next_page: Type.Optional(Type.String()),
  },
  { $id: 'ApprovalQueuePageV1' },
);
export type ApprovalQueuePageV1 = Static<typeof ApprovalQueuePageV1>;

/** `GET /v1/approvals/history`: recently resolved records, newest first. */
export const ApprovalHistoryV1 = Type.Object({ resolved: Type.Array(ApprovalRecordV1) }, { $id: 'ApprovalHistoryV1' });
export type ApprovalHistoryV1 = Static<typeof ApprovalHistoryV1>;

/** One vote as a waiting PEP reads it (the PEP needs who, what and why, not the rest). */
export const ApprovalVerdictV1 = Type.Object({
  approver: Type.String(),
  verdict: Type.String(),
  reason: Type.Optional(Type.String()),
  at: Type.String(),
});
export type ApprovalVerdictV1 = Static<typeof ApprovalVerdictV1>;

/** What a waiting PEP needs of `GET /v1/approvals/{id}`'s `approval`: where it stands and the votes. */
export const ApprovalStatusV1 = Type.Object({
  id: Type.String(),
  status: ApprovalStateV1,
  expires_at: Type.String({ format: 'date-time' }),
  decisions: Type.Array(ApprovalVerdictV1),
});
export type ApprovalStatusV1 = Static<typeof ApprovalStatusV1>;
