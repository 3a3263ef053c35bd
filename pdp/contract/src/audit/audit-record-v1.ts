import { Type, type Static, type TProperties } from '@sinclair/typebox';

/**
 * The audit record, version 1 (docs/audit-events.md, docs/audit-ocsf-mapping.md): an OCSF 1.8.0
 * event of one of the classes Portcullis writes, with the Portcullis event body and its hash-chain
 * link under `unmapped.portcullis`; and the signed digest and checkpoint records of the digests
 * stream. Each class's schema names only attributes OCSF defines for that class
 * (test/audit/audit-record-contract.test.ts checks it against the OCSF schema's own files), and
 * no others: a record with an attribute OCSF does not know would not be taken cleanly by a SIEM.
 */

export const OCSF_SCHEMA_VERSION = '1.8.0';

const Text = () => Type.String();
const EpochMs = (description: string) => Type.Integer({ minimum: 0, description: `${description} (epoch milliseconds)` });
const Id = () => Type.Integer({ minimum: 0 });
const Hash = () => Type.String({ pattern: '^sha256:[0-9a-f]{64}$' });
const closed = { additionalProperties: false } as const;

export const AuditStreamV1 = Type.Union([Type.Literal('decisions'), Type.Literal('sessions'), Type.Literal('approvals'), Type.Literal('shadow')], { $id: 'AuditStreamV1' });
export type AuditStreamV1 = Static<typeof AuditStreamV1>;

/** One link of a producer's hash chain for one stream. */
export const ChainLinkV1 = Type.Object(
  {
    producer_id: Text(),
    stream: AuditStreamV1,
    seq: Id(),
    prev_hash: Type.Union([Hash(), Type.Null()]),
    hash: Hash(),
  },
  { $id: 'ChainLinkV1', ...closed },
);
export type ChainLinkV1 = Static<typeof ChainLinkV1>;

/**
 * `unmapped.portcullis`: the members of the event body (credentials removed) that the record's
 * OCSF attributes do not hold, and the chain link. A member the attributes hold exactly (the
 * event name, time, ids, principal, session, resource type and name, effect, reasons, revision,
 * the command) is stored there only (docs/audit-events.md, "Stored once").
 */
export const PortcullisFieldsV1 = Type.Object(
  {
    /** Records written before bodies were stored once have it; the name is `metadata.event_code`. */
    event: Type.Optional(Text()),
    /** Paths of members removed as credentials, when any were. */
    redacted: Type.Optional(Type.Array(Text())),
    /** Members stored as they are, not to be completed from the OCSF attributes (rare). */
    whole: Type.Optional(Type.Array(Text())),
    chain: ChainLinkV1,
  },
  { $id: 'PortcullisFieldsV1', additionalProperties: true },
);

export const OcsfObservableV1 = Type.Object({ name: Text(), type_id: Id(), value: Text() }, { $id: 'OcsfObservableV1', ...closed });

const Metadata = Type.Object(
  {
    version: Type.Literal(OCSF_SCHEMA_VERSION),
    uid: Text(),
    product: Type.Object({ name: Type.Literal('Portcullis'), vendor_name: Type.Literal('Portcullis'), version: Text() }, closed),
    log_name: Text(),
    profiles: Type.Array(Type.Literal('security_control')),
    event_code: Text(),
    correlation_uid: Type.Optional(Text()),
    logged_time: Type.Optional(EpochMs('When the PDP received a session event')),
  },
  closed,
);

const User = Type.Object(
  {
    uid: Type.Optional(Text()),
    name: Type.Optional(Text()),
    type_id: Id(),
    type: Text(),
    groups: Type.Optional(Type.Array(Type.Object({ name: Text(), type: Text() }, closed))),
  },
  closed,
);

const Actor = Type.Object(
  {
    user: Type.Optional(User),
    idp: Type.Optional(Type.Object({ name: Text() }, closed)),
    session: Type.Optional(Type.Object({ uid: Text() }, closed)),
    app_name: Type.Optional(Text()),
  },
  closed,
);

const Endpoint = Type.Object(
  {
    ip: Type.Optional(Text()),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    name: Type.Optional(Text()),
    hostname: Type.Optional(Text()),
    svc_name: Type.Optional(Text()),
  },
  closed,
);

const ResourceDetails = Type.Object(
  {
    name: Text(),
    type: Type.Optional(Text()),
    namespace: Type.Optional(Text()),
    labels: Type.Optional(Type.Array(Text())),
    role_id: Type.Optional(Id()),
    role: Type.Optional(Text()),
  },
  closed,
);

const HttpRequest = Type.Object(
  {
    http_method: Type.Optional(Text()),
    url: Type.Object({ path: Text(), query_string: Type.Optional(Text()), url_string: Text() }, closed),
    http_headers: Type.Optional(Type.Array(Type.Object({ name: Text(), value: Text() }, closed))),
  },
  closed,
);

/** Base event attributes every record has, and those of the security_control profile. */
const base: TProperties = {
  class_name: Text(),
  category_name: Text(),
  activity_id: Id(),
  activity_name: Text(),
  type_uid: Id(),
  type_name: Text(),
  severity_id: Id(),
  severity: Text(),
  time: EpochMs('When the event happened'),
  status_id: Id(),
  status: Text(),
  status_code: Type.Optional(Text()),
  status_detail: Type.Optional(Text()),
  message: Text(),
  metadata: Metadata,
  observables: Type.Optional(Type.Array(OcsfObservableV1)),
  count: Type.Optional(Id()),
  duration: Type.Optional(Type.Integer({ minimum: 0, description: 'Milliseconds; end_time - start_time when both are set' })),
  start_time: Type.Optional(EpochMs('Start of what the record covers')),
  end_time: Type.Optional(EpochMs('End of what the record covers')),
  // security_control profile (decisions and approvals)
  action_id: Type.Optional(Id()),
  action: Type.Optional(Text()),
  disposition_id: Type.Optional(Id()),
  disposition: Type.Optional(Text()),
  policy: Type.Optional(Type.Object({ name: Text(), is_applied: Type.Boolean(), uid: Type.Optional(Text()), version: Type.Optional(Text()) }, closed)),
  unmapped: Type.Object({ portcullis: PortcullisFieldsV1 }, closed),
};

const ocsfClass = <C extends number, G extends number>(classUid: C, categoryUid: G, id: string, properties: TProperties) =>
  Type.Object({ class_uid: Type.Literal(classUid), category_uid: Type.Literal(categoryUid), ...base, ...properties }, { $id: id, ...closed });

/** SQL decisions, statements and sessions (and SQL connect decisions). */
export const DatastoreActivityRecordV1 = ocsfClass(6005, 6, 'DatastoreActivityRecordV1', {
  actor: Actor,
  src_endpoint: Endpoint,
  dst_endpoint: Type.Optional(Endpoint),
  type_id: Id(),
  type: Text(),
  database: Type.Object({ name: Text(), type_id: Id(), type: Text() }, closed),
  table: Type.Optional(Type.Object({ name: Text() }, closed)),
  query_info: Type.Optional(
    Type.Object({ query_string: Text(), uid: Type.Optional(Text()), query_time: Type.Optional(EpochMs('When the statement ran')), bytes: Type.Optional(Id()) }, closed),
  ),
});

/** Kubernetes and HTTP decisions and sessions, Data API queries. */
export const ApiActivityRecordV1 = ocsfClass(6003, 6, 'ApiActivityRecordV1', {
  actor: Actor,
  src_endpoint: Endpoint,
  dst_endpoint: Type.Optional(Endpoint),
  api: Type.Object(
    { operation: Text(), request: Type.Optional(Type.Object({ uid: Text() }, closed)), service: Type.Optional(Type.Object({ name: Text() }, closed)), version: Type.Optional(Text()) },
    closed,
  ),
  http_request: Type.Optional(HttpRequest),
  resources: Type.Optional(Type.Array(ResourceDetails)),
});

/** Shell decisions and sessions. */
export const ProcessActivityRecordV1 = ocsfClass(1007, 1, 'ProcessActivityRecordV1', {
  actor: Actor,
  process: Type.Object({ cmd_line: Type.Optional(Text()), name: Text(), uid: Text() }, closed),
  device: Type.Object({ type_id: Id(), type: Text(), name: Text(), hostname: Type.Optional(Text()) }, closed),
});

/** Approval transitions. */
export const UserAccessManagementRecordV1 = ocsfClass(3005, 3, 'UserAccessManagementRecordV1', {
  actor: Type.Optional(Actor),
  src_endpoint: Type.Optional(Endpoint),
  user: User,
  privileges: Type.Array(Text()),
  resources: Type.Optional(Type.Array(ResourceDetails)),
});

/** A policy bundle activated (live or shadow): the managed Policy entity, its exact digest, source and signature in `policy.data`. */
export const EntityManagementRecordV1 = ocsfClass(3004, 3, 'EntityManagementRecordV1', {
  actor: Actor,
  src_endpoint: Type.Optional(Endpoint),
  comment: Type.Optional(Text()),
  entity: Type.Object(
    {
      name: Text(),
      uid: Text(),
      type_id: Id(),
      type: Text(),
      version: Text(),
      policy: Type.Object(
        {
          name: Text(),
          uid: Text(),
          version: Text(),
          is_applied: Type.Boolean(),
          data: Type.Object(
            {
              digest: Hash(),
              role: Type.Union([Type.Literal('live'), Type.Literal('shadow')]),
              source: Type.Object({ kind: Text(), location: Text() }, closed),
              signature: Type.Object(
                { status: Text(), key_id: Type.Optional(Type.Union([Text(), Type.Null()])), key_sha256: Type.Optional(Hash()), algorithm: Type.Optional(Text()) },
                closed,
              ),
            },
            closed,
          ),
        },
        closed,
      ),
    },
    closed,
  ),
});

/** An event Portcullis does not know yet, kept whole under `unmapped`. */
export const BaseEventRecordV1 = ocsfClass(0, 0, 'BaseEventRecordV1', {});

/** One record of the decisions, sessions or approvals stream. */
export const AuditRecordV1 = Type.Union([DatastoreActivityRecordV1, ApiActivityRecordV1, ProcessActivityRecordV1, UserAccessManagementRecordV1, EntityManagementRecordV1, BaseEventRecordV1], {
  $id: 'AuditRecordV1',
});
export type AuditRecordV1 = Static<typeof AuditRecordV1>;

/** Every OCSF class schema by its class_uid (what the OCSF check walks). */
export const AUDIT_RECORD_CLASSES = {
  6005: DatastoreActivityRecordV1,
  6003: ApiActivityRecordV1,
  1007: ProcessActivityRecordV1,
  3005: UserAccessManagementRecordV1,
  3004: EntityManagementRecordV1,
  0: BaseEventRecordV1,
} as const;

const Signature = () => Type.String({ description: 'Compact JWS, ES256, kid = the signing key; payload = canonical JSON of every other field' });
const StreamPosition = Type.Object({ last_seq: Id(), last_hash: Hash() }, closed);
const StreamPositions = Type.Record(Type.String(), StreamPosition);

/** A signed digest of one producer's records of one stream (digests stream). */
export const AuditDigestV1 = Type.Object(
  {
    type: Type.Literal('portcullis.audit.digest.v1'),
    producer_id: Text(),
    stream: AuditStreamV1,
    first_seq: Id(),
    last_seq: Id(),
    count: Id(),
    last_hash: Hash(),
    root_hash: Hash(),
    previous_digest: Type.Union([Hash(), Type.Null()]),
    time: Type.String({ format: 'date-time' }),
    signature: Signature(),
  },
  { $id: 'AuditDigestV1', ...closed },
);
export type AuditDigestV1 = Static<typeof AuditDigestV1>;

/** A producer's signed start, checkpoint or stop (digests stream). */
export const AuditCheckpointV1 = Type.Object(
  {
    type: Type.Literal('portcullis.audit.checkpoint.v1'),
    event: Type.Union([Type.Literal('start'), Type.Literal('checkpoint'), Type.Literal('stop')]),
    producer_id: Text(),
    seq: Id(),
    previous: Type.Union([Hash(), Type.Null()]),
    time: Type.String({ format: 'date-time' }),
    digest_interval_ms: Id(),
    durability: Type.Union([Type.Literal('sync'), Type.Literal('async')]),
    streams: StreamPositions,
    producers: Type.Array(Type.Object({ producer_id: Text(), streams: StreamPositions, stopped: Type.Boolean() }, closed)),
    /** How long the producer was configured to keep each stream, in ms (null: for ever); signed. */
    retention_ms: Type.Optional(Type.Object(
      Object.fromEntries(['decisions', 'sessions', 'approvals', 'shadow', 'digests'].map((stream) => [stream, Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]))])),
      closed,
    )),
    signature: Signature(),
  },
  { $id: 'AuditCheckpointV1', ...closed },
);
export type AuditCheckpointV1 = Static<typeof AuditCheckpointV1>;

/** One record of the digests stream. */
export const AuditDigestsRecordV1 = Type.Union([AuditDigestV1, AuditCheckpointV1], { $id: 'AuditDigestsRecordV1' });
export type AuditDigestsRecordV1 = Static<typeof AuditDigestsRecordV1>;
