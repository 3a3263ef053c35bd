import { Type, type Static } from '@sinclair/typebox';

/**
 * `POST /v1/decisions`, the request, version 1: what a PEP asks about. Every PEP and external
 * client depends on it: extend by adding optional fields, never by changing one.
 */

export const MAX_TEXT = 1024 * 1024;
export const MAX_NAME = 256;
/** PostgreSQL's limit on the parameters of one statement. */
export const MAX_SQL_PARAMETERS = 65535;

/** A name: not empty, at most `max` characters. */
export const Name = (max = MAX_NAME, description?: string) => Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) });
/** Free text that may be empty, at most `max` characters. */
export const Text = (max = MAX_TEXT, description?: string) => Type.String({ maxLength: max, ...(description ? { description } : {}) });

export const StringMapV1 = Type.Record(Type.String(), Type.String());

export const ResourceV1 = Type.Object(
  {
    type: Name(MAX_NAME, 'The kind of resource: postgres, kubernetes, ssh, mcp …'),
    name: Name(),
    environment: Type.Optional(Name()),
    labels: Type.Optional(StringMapV1),
  },
  { $id: 'ResourceV1' },
);
export type ResourceV1 = Static<typeof ResourceV1>;

/** One bound parameter as text (null for SQL NULL), with the type the client declared (0 or absent: the server infers it). */
export const SqlParameterV1 = Type.Object(
  {
    value: Type.Union([Type.String(), Type.Null()], { errorMessage: 'must be a string or null' }),
    type_oid: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff, errorMessage: 'must be an unsigned 32-bit integer' })),
  },
  { $id: 'SqlParameterV1' },
);
export type SqlParameterV1 = Static<typeof SqlParameterV1>;

const QueryV1 = Type.Union([Type.String(), Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())], { errorMessage: 'must be a string or an array of strings' }))], {
  description: 'The query string as sent, or its parameters by name',
});

export const SqlActionV1 = Type.Object(
  {
    type: Type.Literal('sql'),
    sql: Text(),
    /** The values one execution binds to $1, $2 … (a PEP decides a statement that needs approval with them). */
    parameters: Type.Optional(Type.Array(SqlParameterV1, { maxItems: MAX_SQL_PARAMETERS, description: 'The values one execution binds to $1, $2 …' })),
  },
  { $id: 'SqlActionV1' },
);

export const KubernetesActionV1 = Type.Object(
  {
    type: Type.Literal('kubernetes'),
    method: Name(16),
    path: Name(8192),
    query: Type.Optional(QueryV1),
    body: Type.Optional(Type.Unknown()),
  },
  { $id: 'KubernetesActionV1' },
);

export const ShellActionV1 = Type.Object({ type: Type.Literal('shell'), command: Text() }, { $id: 'ShellActionV1' });

/** A session being opened on the resource (a PEP's login step); startup details as the client sent them. */
export const ConnectActionV1 = Type.Object(
  {
    type: Type.Literal('connect'),
    protocol: Name(),
    database: Type.Optional(Text(MAX_NAME)),
    user: Type.Optional(Text(MAX_NAME)),
    application_name: Type.Optional(Text(MAX_NAME)),
  },
  { $id: 'ConnectActionV1', description: 'A session being opened on the resource (a PEP login step)' },
);

export const HttpActionV1 = Type.Object(
  {
    type: Type.Literal('http'),
    method: Name(16),
    path: Name(8192),
    query: Type.Optional(QueryV1),
    headers: Type.Optional(StringMapV1),
    body: Type.Optional(Type.Unknown()),
  },
  { $id: 'HttpActionV1' },
);

export const ActionV1 = Type.Union([SqlActionV1, KubernetesActionV1, ShellActionV1, HttpActionV1, ConnectActionV1], {
  $id: 'ActionV1',
  discriminator: { propertyName: 'type' },
  errorMessage: { discriminator: 'must be one of sql, kubernetes, shell, http, connect' },
});
export type ActionV1 = Static<typeof ActionV1>;

export const SessionV1 = Type.Object({ id: Type.Optional(Name()), client_addr: Type.Optional(Name()) }, { $id: 'SessionV1' });
export type SessionV1 = Static<typeof SessionV1>;

export const APPROVAL_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

export const DecisionRequestV1 = Type.Object(
  {
    /** The caller's token (an OIDC JWT), verified by the PDP. Absent: an unauthenticated caller. */
    subject_token: Type.Optional(Type.String({ description: "The caller's OIDC JWT, verified by the PDP" })),
    resource: ResourceV1,
    action: ActionV1,
    session: Type.Optional(SessionV1),
    /** Presents an approval granted for exactly this request; the PDP consumes it (single use). */
    approval_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: APPROVAL_ID_PATTERN,
        errorMessage: { pattern: 'must be an approval id (a UUID)' },
        description: 'Presents an approval granted for exactly this request; the PDP consumes it (single use)',
      }),
    ),
    /**
     * An approval_required answer opens no approval: the PEP will ask again with what the approval
     * must be bound to (an extended-protocol statement is decided at Parse, approved at Bind with its values).
     */
    defer_approval: Type.Optional(Type.Boolean({ description: 'An approval_required answer opens no approval: the PEP asks again with what it must be bound to' })),
  },
  { $id: 'DecisionRequestV1' },
);
export type DecisionRequestV1 = Static<typeof DecisionRequestV1>;
