import { Type, type Static } from '@sinclair/typebox';

/** Where an approval stands. `approved` waits to be consumed once; the rest are final. */
export const ApprovalStateV1 = Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied'), Type.Literal('expired'), Type.Literal('executed')], {
  $id: 'ApprovalStateV1',
  description: '`approved` waits to be consumed once; denied, expired and executed are final',
});
export type ApprovalState = Static<typeof ApprovalStateV1>;

/** One vote as a PEP reads it off `GET /v1/approvals/{id}` (the console sees more of it). */
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
