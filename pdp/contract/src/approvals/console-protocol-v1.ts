import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PrincipalKindV1 } from '../decisions/decision-response-v1.ts';
import { APPROVAL_ID_PATTERN } from '../decisions/decision-request-v1.ts';
import { ApprovalRecordV1, ApprovalVerdictKindV1 } from './approval-v1.ts';

/**
 * The approvals WebSocket protocol, version 1 (`/v1/ws`, subprotocol `portcullis.v1`,
 * docs/approvals-protocol.md): JSON text frames, one message each, with a `type`.
 */
export const CONSOLE_PROTOCOL_VERSION = 1;
export const CONSOLE_SUBPROTOCOL = 'portcullis.v1';

/** A string the message must carry: absent or empty is "is required". */
const RequiredText = (max: number) =>
  Type.String({ minLength: 1, maxLength: max, errorMessage: { minLength: 'is required', type: `must be a string of at most ${max} characters`, maxLength: `must be a string of at most ${max} characters` } });
const OptionalText = (max: number) => Type.Optional(Type.String({ maxLength: max, errorMessage: `must be a string of at most ${max} characters` }));
const ApprovalId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: APPROVAL_ID_PATTERN,
  errorMessage: { minLength: 'is required', type: 'must be a string of at most 64 characters', maxLength: 'must be a string of at most 64 characters', pattern: 'must be a UUID' },
});
/** Echoed on the answer, so a client matches answers to its requests. */
const RequestId = OptionalText(128);

const client = <T extends string, P extends Record<string, TSchema>>(type: T, properties: P) =>
  Type.Object({ type: Type.Literal(type), request_id: RequestId, ...properties }, { $id: `Console${type[0]!.toUpperCase()}${type.slice(1)}MessageV1` });

export const ConsoleClientMessageV1 = Type.Union(
  [
    Type.Object({ type: Type.Literal('auth'), token: RequiredText(16 * 1024) }, { $id: 'ConsoleAuthMessageV1' }),
    Type.Object({ type: Type.Literal('subscribe'), resume_from: OptionalText(48) }, { $id: 'ConsoleSubscribeMessageV1' }),
    client('history', { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, errorMessage: 'must be an integer from 1 to 500' })) }),
    client('page', { page: RequiredText(128) }),
    client('get', { approval_id: ApprovalId }),
    client('vote', { approval_id: ApprovalId, verdict: ApprovalVerdictKindV1, reason: OptionalText(2000) }),
    client('wait', { approval_id: ApprovalId }),
    client('ping', {}),
  ],
  {
    $id: 'ConsoleClientMessageV1',
    discriminator: { propertyName: 'type' },
    errorMessage: { type: 'must be a JSON object', discriminator: 'must be one of auth, subscribe, history, page, get, vote, wait, ping' },
  },
);
export type ConsoleClientMessageV1 = Static<typeof ConsoleClientMessageV1>;

const echo = { request_id: Type.Optional(Type.String()) };
const server = <T extends string, P extends Record<string, TSchema>>(type: T, id: string, properties: P) => Type.Object({ type: Type.Literal(type), ...properties }, { $id: id });

export const ConsoleServerMessageV1 = Type.Union(
  [
    server('welcome', 'ConsoleWelcomeMessageV1', {
      protocol: Type.Literal(CONSOLE_PROTOCOL_VERSION),
      principal: Type.Object({ sub: Type.String(), iss: Type.String(), kind: Type.Optional(PrincipalKindV1), roles: Type.Array(Type.String()) }),
      /** May subscribe to the queue (console roles); a PEP may only wait. */
      can_watch: Type.Boolean(),
      heartbeat_ms: Type.Integer({ minimum: 1 }),
    }),
    server('snapshot', 'ConsoleSnapshotMessageV1', { cursor: Type.String(), pending: Type.Array(ApprovalRecordV1), next_page: Type.Optional(Type.String()), resync: Type.Optional(Type.Literal(true)) }),
    server('page', 'ConsolePageMessageV1', { ...echo, pending: Type.Array(ApprovalRecordV1), next_page: Type.Optional(Type.String()) }),
    server('record', 'ConsoleRecordMessageV1', { ...echo, approval: ApprovalRecordV1 }),
    server('event', 'ConsoleEventMessageV1', {
      /** `<ms>-<seq>` in the one ordered log of changes: resume from it. */
      id: Type.String(),
      event: Type.Union([Type.Literal('requested'), Type.Literal('updated'), Type.Literal('resolved')]),
      approval: ApprovalRecordV1,
    }),
    server('resumed', 'ConsoleResumedMessageV1', { cursor: Type.String() }),
    server('history', 'ConsoleHistoryMessageV1', { ...echo, resolved: Type.Array(ApprovalRecordV1) }),
    server('vote_result', 'ConsoleVoteResultMessageV1', {
      request_id: Type.Union([Type.String(), Type.Null()]),
      ok: Type.Boolean(),
      approval: Type.Optional(ApprovalRecordV1),
      code: Type.Optional(Type.String()),
      message: Type.Optional(Type.String()),
    }),
    server('approval', 'ConsoleApprovalMessageV1', { ...echo, final: Type.Boolean(), approval: ApprovalRecordV1 }),
    server('error', 'ConsoleErrorMessageV1', { ...echo, code: Type.String({ description: 'malformed-json, invalid-message, forbidden, not-found, too-many-waits, approvals-unavailable, internal' }), message: Type.String() }),
    server('pong', 'ConsolePongMessageV1', { ...echo }),
  ],
  { $id: 'ConsoleServerMessageV1', discriminator: { propertyName: 'type' } },
);
export type ConsoleServerMessageV1 = Static<typeof ConsoleServerMessageV1>;
