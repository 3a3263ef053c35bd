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

/**
 * One request to a Kubernetes API server, byte for byte what the PEP forwards: method, path as
 * sent, the raw query (exec/attach `command=`, port-forward `ports=` ride in it), the body as sent.
 * For create, update and every patch type the PEP also resolves `object`: the object as the API
 * server will store it, which policy judges (a patch body alone says little).
 */
export const KubernetesActionV1 = Type.Object(
  {
    type: Type.Literal('kubernetes'),
    method: Name(16),
    path: Name(8192),
    query: Type.Optional(QueryV1),
    body: Type.Optional(Type.Unknown()),
    /** create/update/patch: the object as it will be stored (a patch applied to the current object). */
    object: Type.Optional(Type.Unknown({ description: 'create, update, patch: the object as it will be stored, resolved by the PEP (a patch applied to the current object)' })),
  },
  { $id: 'KubernetesActionV1', description: 'One request to a Kubernetes API server, as the PEP forwards it' },
);

export const ShellActionV1 = Type.Object({ type: Type.Literal('shell'), command: Text() }, { $id: 'ShellActionV1' });

/** What an SSH session is asking to open: a login alone (absent), or one request on a session channel. */
export const CONNECT_CHANNELS = ['shell', 'exec', 'subsystem', 'x11', 'agent-forwarding'] as const;

/** A session being opened on the resource (a PEP's login step); startup details as the client sent them. */
export const ConnectActionV1 = Type.Object(
  {
    type: Type.Literal('connect'),
    protocol: Name(),
    database: Type.Optional(Text(MAX_NAME)),
    /** The login name: a database role, an SSH user name. */
    user: Type.Optional(Text(MAX_NAME)),
    application_name: Type.Optional(Text(MAX_NAME)),
    /** SSH: the session request being decided (absent: the login itself). */
    channel: Type.Optional(
      Type.Union(
        CONNECT_CHANNELS.map((channel) => Type.Literal(channel)),
        { errorMessage: `must be one of ${CONNECT_CHANNELS.join(', ')}`, description: 'SSH: the session request being decided; absent for the login itself' },
      ),
    ),
    /** SSH: a terminal (PTY) was requested for the session. */
    pty: Type.Optional(Type.Boolean({ description: 'SSH: a terminal (PTY) was requested' })),
    /** SSH: the subsystem asked for (sftp), with channel `subsystem`. */
    subsystem: Type.Optional(Name(MAX_NAME, 'SSH: the subsystem asked for (sftp)')),
  },
  { $id: 'ConnectActionV1', description: 'A session being opened on the resource (a PEP login step)' },
);

/** Longest path a file action carries (Linux PATH_MAX). */
export const MAX_PATH = 4096;

/** What a file operation does; each SFTP request and legacy scp step is one of these. */
export const FILE_OPERATIONS = ['read', 'write', 'list', 'stat', 'readlink', 'realpath', 'remove', 'rename', 'mkdir', 'rmdir', 'setstat', 'symlink', 'link'] as const;

/** How a write opens its file (SFTP open flags), when the operation says. */
export const FileOpenV1 = Type.Object(
  {
    create: Type.Optional(Type.Boolean()),
    truncate: Type.Optional(Type.Boolean()),
    append: Type.Optional(Type.Boolean()),
    exclusive: Type.Optional(Type.Boolean()),
  },
  { $id: 'FileOpenV1', description: 'How a write opens its file (SFTP open flags)' },
);

/** File attributes an operation sets (setstat, mkdir, a created file), as numbers. */
export const FileAttributesV1 = Type.Object(
  {
    mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
    uid: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
    gid: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
    size: Type.Optional(Type.Integer({ minimum: 0 })),
    atime: Type.Optional(Type.Integer({ minimum: 0 })),
    mtime: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { $id: 'FileAttributesV1', description: 'File attributes an operation sets' },
);

const FilePath = (description: string) => Type.String({ minLength: 1, maxLength: MAX_PATH, description });

/**
 * One operation on files of the resource (SFTP, legacy scp). Paths as the host will be sent
 * them; the PDP normalises them against `cwd` and refuses what it cannot read canonically.
 */
export const FileActionV1 = Type.Object(
  {
    type: Type.Literal('file'),
    /** The channel it came through: sftp, scp. */
    protocol: Type.Optional(Name()),
    operation: Type.Union(
      FILE_OPERATIONS.map((operation) => Type.Literal(operation)),
      { errorMessage: `must be one of ${FILE_OPERATIONS.join(', ')}` },
    ),
    path: FilePath('The path operated on; for rename the source, for symlink and link the link created'),
    /** rename: the new name; symlink: what the link points to (as stored); link: the existing file. */
    target_path: Type.Optional(FilePath('rename: the new name; symlink: what the link points to, as stored; link: the existing file')),
    /** The absolute directory relative paths are resolved from on the host (an SFTP session's start directory). */
    cwd: Type.Optional(FilePath('The absolute directory the host resolves relative paths from')),
    open: Type.Optional(FileOpenV1),
    attributes: Type.Optional(FileAttributesV1),
  },
  { $id: 'FileActionV1', description: 'One operation on files of the resource (SFTP, legacy scp)' },
);

export const NETWORK_DIRECTIONS = ['outbound', 'inbound'] as const;

/**
 * A network path opened through the resource (SSH port forwarding). `outbound`: the resource
 * side connects to host:port (ssh -L, -D); `inbound`: it listens on host:port and hands the
 * connections back to the client (ssh -R). A Unix socket names `socket_path` instead of a port.
 */
export const NetworkActionV1 = Type.Object(
  {
    type: Type.Literal('network'),
    protocol: Type.Optional(Name()),
    direction: Type.Union(
      NETWORK_DIRECTIONS.map((direction) => Type.Literal(direction)),
      { errorMessage: `must be one of ${NETWORK_DIRECTIONS.join(', ')}` },
    ),
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('unix')], { errorMessage: 'must be tcp or unix', description: 'tcp when absent' })),
    /** tcp: the host name or address as the client sent it (inbound: the address to listen on; "" for all). */
    host: Type.Optional(Text(MAX_NAME, 'tcp: the host name or address as sent; inbound: the listen address ("" for all)')),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, errorMessage: 'must be a port number (0-65535)', description: 'tcp: the port; inbound 0 asks for any free port' })),
    socket_path: Type.Optional(FilePath('unix: the socket path')),
  },
  { $id: 'NetworkActionV1', description: 'A network path opened through the resource (port forwarding)' },
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

/** The MCP requests a gateway decides: an agent's requests to a server, and the server's requests to the agent. */
export const MCP_METHODS = ['tools/call', 'tools/list', 'resources/read', 'prompts/get', 'sampling/createMessage', 'elicitation/create', 'roots/list'] as const;

/** Most tools one tools/list answer may carry into a decision. */
export const MAX_MCP_TOOLS = 1024;

/** A tool's annotations as its server declared them: hints about its behaviour, not guarantees. */
export const McpToolAnnotationsV1 = Type.Object(
  {
    title: Type.Optional(Text(MAX_NAME)),
    readOnlyHint: Type.Optional(Type.Boolean()),
    destructiveHint: Type.Optional(Type.Boolean()),
    idempotentHint: Type.Optional(Type.Boolean()),
    openWorldHint: Type.Optional(Type.Boolean()),
  },
  { $id: 'McpToolAnnotationsV1', description: "A tool's annotations as its server declared them (hints, not guarantees)" },
);
export type McpToolAnnotationsV1 = Static<typeof McpToolAnnotationsV1>;

export const McpToolV1 = Type.Object({ name: Name(), annotations: Type.Optional(McpToolAnnotationsV1) }, { $id: 'McpToolV1' });
export type McpToolV1 = Static<typeof McpToolV1>;

/**
 * One MCP request through a gateway to or from the server that is the resource. The arguments are
 * exactly what the server will be sent; the PDP analyses those that policy data names (SQL,
 * shell commands, paths) before policy sees them.
 */
export const McpActionV1 = Type.Object(
  {
    type: Type.Literal('mcp'),
    method: Type.Union(
      MCP_METHODS.map((method) => Type.Literal(method)),
      { errorMessage: `must be one of ${MCP_METHODS.join(', ')}` },
    ),
    /** tools/call: the tool's name. */
    tool: Type.Optional(Name(MAX_NAME, "tools/call: the tool's name")),
    /** tools/call and prompts/get: the arguments exactly as they will be sent. */
    arguments: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'tools/call, prompts/get: the arguments exactly as they will be sent' })),
    /** tools/call: the tool's annotations as the server declared them in tools/list. */
    annotations: Type.Optional(McpToolAnnotationsV1),
    /** tools/list: every tool the server listed, so policy can say which to hide. */
    tools: Type.Optional(Type.Array(McpToolV1, { maxItems: MAX_MCP_TOOLS, description: 'tools/list: every tool the server listed, name and annotations' })),
    /** resources/read: the resource URI. */
    uri: Type.Optional(Text(8192, 'resources/read: the resource URI')),
    /** prompts/get: the prompt's name. */
    prompt: Type.Optional(Name(MAX_NAME, "prompts/get: the prompt's name")),
    /** Who sends the request: the server to the agent (sampling, elicitation, roots) or, when absent, the agent to the server. */
    direction: Type.Optional(
      Type.Union([Type.Literal('to_client'), Type.Literal('to_server')], { errorMessage: 'must be to_client or to_server', description: 'to_client: a request the server sends to the agent; absent: to_server' }),
    ),
    /** to_client requests: their params as the server sent them. */
    params: Type.Optional(Type.Unknown({ description: 'to_client requests: their params as the server sent them' })),
  },
  { $id: 'McpActionV1', description: 'One MCP request through a gateway, to or from the server that is the resource' },
);

export const ActionV1 = Type.Union([SqlActionV1, KubernetesActionV1, ShellActionV1, HttpActionV1, ConnectActionV1, FileActionV1, NetworkActionV1, McpActionV1], {
  $id: 'ActionV1',
  discriminator: { propertyName: 'type' },
  errorMessage: { discriminator: 'must be one of sql, kubernetes, shell, http, connect, file, network, mcp' },
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
