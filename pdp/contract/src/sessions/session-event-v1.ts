import { Type, type Static } from '@sinclair/typebox';
import { MAX_NAME, MAX_TEXT, Name, Text } from '../decisions/decision-request-v1.ts';
import { RecordingChunkV1 } from './session-recording-v1.ts';

/**
 * The PEP → PDP session-event contract, version 1: events as a PEP posts them to
 * `POST /v1/sessions/events` (snake_case, like the session audit record). Result values never
 * appear: only the command, its outcome and counts.
 */

export const MAX_EVENTS_PER_POST = 1000;

export const SessionProtocolV1 = Type.Union([Type.Literal('sql'), Type.Literal('kubernetes'), Type.Literal('shell'), Type.Literal('http'), Type.Literal('mcp')], {
  $id: 'SessionProtocolV1',
  errorMessage: 'must be one of sql, kubernetes, shell, http, mcp',
});
export type SessionProtocol = Static<typeof SessionProtocolV1>;

const Count = (description?: string) => Type.Integer({ minimum: 0, errorMessage: 'must be a non-negative integer', ...(description ? { description } : {}) });
const Milliseconds = () => Type.Number({ minimum: 0, errorMessage: 'must be a non-negative number' });

const base = {
  /** Unique per event, so a batch resent after a lost answer can be told apart from new events. */
  event_id: Type.Optional(Name(128, 'Unique per event: a batch resent after a lost answer is told apart from new events')),
  /** When it happened at the PEP (shipping is later). */
  time: Type.Optional(Type.String({ format: 'date-time', errorMessage: 'must be an ISO 8601 time', description: 'When it happened at the PEP' })),
  /** The caller's token; the PDP verifies it to name the principal. Never logged. */
  subject_token: Type.Optional(Name(16 * 1024, "The caller's token; the PDP verifies it to name the principal")),
  /** In a batch: the caller's token by its place in the batch's `subject_tokens` (each distinct token sent once). */
  subject_token_ref: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_EVENTS_PER_POST - 1,
      errorMessage: 'must be a place in subject_tokens',
      description: "The caller's token, by its place in the batch's subject_tokens; not with subject_token",
    }),
  ),
  session: Type.Object({ id: Name(MAX_NAME), client_addr: Type.Optional(Name(MAX_NAME)) }),
  protocol: SessionProtocolV1,
  resource: Type.Object({ type: Name(MAX_NAME), name: Name(MAX_NAME), environment: Type.Optional(Name(MAX_NAME)) }),
};

export const SessionStartEventV1 = Type.Object({ ...base, event: Type.Literal('session.start') }, { $id: 'SessionStartEventV1' });
export type SessionStartEventV1 = Static<typeof SessionStartEventV1>;

export const SessionStatementEventV1 = Type.Object(
  {
    ...base,
    event: Type.Literal('session.statement'),
    statement: Type.Object({ text: Text(MAX_TEXT), kind: Type.Optional(Name(64)), method: Type.Optional(Name(64)), path: Type.Optional(Name(8192)) }),
    decision_id: Name(128),
    /** True when the statement ran under an earlier decision of the same shape (DecisionReuseV1), not its own. */
    decision_reused: Type.Optional(Type.Boolean({ errorMessage: 'must be true or false', description: 'The statement ran under an earlier decision of the same shape, not its own' })),
    status: Type.Union([Type.Literal('success'), Type.Literal('failure')], { errorMessage: 'must be success or failure' }),
    error: Type.Optional(Text(8192)),
    duration_ms: Milliseconds(),
    rows: Type.Optional(Count()),
    bytes: Type.Optional(Count()),
    masked_cells: Type.Optional(Count()),
  },
  { $id: 'SessionStatementEventV1' },
);
export type SessionStatementEventV1 = Static<typeof SessionStatementEventV1>;

export const SessionEndEventV1 = Type.Object(
  {
    ...base,
    event: Type.Literal('session.end'),
    duration_ms: Milliseconds(),
    statements: Count(),
    rows: Count(),
    bytes: Count(),
    masked_cells: Count(),
    reason: Type.Optional(Name(128)),
  },
  { $id: 'SessionEndEventV1' },
);
export type SessionEndEventV1 = Static<typeof SessionEndEventV1>;

/**
 * One chunk of an interactive session's recording (session-recording-v1.ts), under the decision
 * that opened the session: the PDP checks it issued that decision to this PEP, as for statements.
 */
export const SessionRecordingEventV1 = Type.Object(
  {
    ...base,
    event: Type.Literal('session.recording'),
    decision_id: Name(128, 'The decision that allowed the interactive session'),
    recording: RecordingChunkV1,
  },
  { $id: 'SessionRecordingEventV1' },
);
export type SessionRecordingEventV1 = Static<typeof SessionRecordingEventV1>;

export const SessionEventV1 = Type.Union([SessionStartEventV1, SessionStatementEventV1, SessionRecordingEventV1, SessionEndEventV1], {
  $id: 'SessionEventV1',
  discriminator: { propertyName: 'event' },
  errorMessage: { discriminator: 'must be session.start, session.statement, session.recording or session.end' },
});
export type SessionEventV1 = Static<typeof SessionEventV1>;

export const SessionEventBatchV1 = Type.Object(
  {
    /**
     * The callers' tokens of the batch, each distinct one once; its events name theirs by place
     * (`subject_token_ref`), so a batch of a session's statements carries its token once, not
     * once per statement.
     */
    subject_tokens: Type.Optional(
      Type.Array(Name(16 * 1024, "A caller's token"), {
        minItems: 1,
        maxItems: MAX_EVENTS_PER_POST,
        errorMessage: { minItems: `must hold 1 to ${MAX_EVENTS_PER_POST} tokens`, maxItems: `must hold 1 to ${MAX_EVENTS_PER_POST} tokens` },
        description: "The callers' tokens of the batch, each distinct one once; events name theirs by subject_token_ref",
      }),
    ),
    events: Type.Array(SessionEventV1, {
      minItems: 1,
      maxItems: MAX_EVENTS_PER_POST,
      errorMessage: { minItems: `must hold 1 to ${MAX_EVENTS_PER_POST} events`, maxItems: `must hold 1 to ${MAX_EVENTS_PER_POST} events` },
    }),
  },
  { $id: 'SessionEventBatchV1' },
);
export type SessionEventBatchV1 = Static<typeof SessionEventBatchV1>;

/** `POST /v1/sessions/events` answers 202 once the records are durable: how many posted events were taken. */
export const SessionEventsAcceptedV1 = Type.Object({ accepted: Type.Integer({ minimum: 0 }) }, { $id: 'SessionEventsAcceptedV1' });
export type SessionEventsAcceptedV1 = Static<typeof SessionEventsAcceptedV1>;
