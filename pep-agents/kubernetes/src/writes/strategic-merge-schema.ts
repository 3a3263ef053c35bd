/**
 * Where a type carries merge metadata: for a strategic merge patch, the lists that merge (by a
 * merge key, or as a set of primitives) instead of being replaced; for server-side apply, each
 * list's type (`atomic`, `set`, `map` by its keys) and maps applied whole. The API server's
 * OpenAPI states these for every kind it serves (`openapi-patch-schemas.ts` reads them); the
 * table below is the built-in fallback for the kinds that carry pods, from the Go types' tags
 * (v1.34), used when the OpenAPI cannot be read. A field not listed is a map that merges member
 * by member or a list a patch replaces.
 */

export interface PatchField {
  /** Strategic merge: the list merges instead of being replaced. */
  merge?: true;
  /** Strategic merge: the merge key of a list of objects; absent for a merging list of primitives. */
  mergeKey?: string;
  /** Strategic merge: a map the patch replaces whole. */
  replace?: true;
  /** Server-side apply: the list's type (default: from the strategic merge metadata, else atomic). */
  listType?: 'atomic' | 'set' | 'map';
  /** Server-side apply: the keys of a `map` list. */
  listMapKeys?: readonly string[];
  /** Server-side apply: a map applied whole. */
  atomicMap?: true;
  /** The type of the value (of each element, for a list). */
  schema?: PatchSchema;
}

/** Fields by name; `*` is the type of every value of a map with arbitrary keys. */
export type PatchSchema = Readonly<Record<string, PatchField>>;

const byKey = (mergeKey: string, schema?: PatchSchema, listMapKeys?: readonly string[]): PatchField => ({
  merge: true,
  mergeKey,
  listType: 'map',
  listMapKeys: listMapKeys ?? [mergeKey],
  ...(schema ? { schema } : {}),
});

const OBJECT_META: PatchSchema = {
  finalizers: { merge: true, listType: 'set' },
  ownerReferences: byKey('uid'),
};

const CONTAINER: PatchSchema = {
  ports: byKey('containerPort', undefined, ['containerPort', 'protocol']),
  env: byKey('name'),
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
  resources: { schema: { claims: { listType: 'map', listMapKeys: ['name'] } } },
};

const POD_SPEC: PatchSchema = {
  volumes: byKey('name'),
  initContainers: byKey('name', CONTAINER),
  containers: byKey('name', CONTAINER),
  ephemeralContainers: byKey('name', CONTAINER),
  imagePullSecrets: byKey('name'),
  hostAliases: byKey('ip'),
  topologySpreadConstraints: byKey('topologyKey', undefined, ['topologyKey', 'whenUnsatisfiable']),
  schedulingGates: byKey('name'),
  resourceClaims: byKey('name'),
};

const POD_STATUS: PatchSchema = {
  conditions: byKey('type'),
  hostIPs: { merge: true, mergeKey: 'ip', listType: 'atomic' },
  podIPs: byKey('ip'),
  resourceClaimStatuses: byKey('name'),
};

const POD_TEMPLATE_SPEC: PatchSchema = { metadata: { schema: OBJECT_META }, spec: { schema: POD_SPEC } };
const CONDITIONS_STATUS: PatchSchema = { conditions: byKey('type') };

const withMeta = (fields: PatchSchema): PatchSchema => ({ metadata: { schema: OBJECT_META }, ...fields });
const workload = (status: PatchSchema = CONDITIONS_STATUS): PatchSchema => withMeta({ spec: { schema: { template: { schema: POD_TEMPLATE_SPEC } } }, status: { schema: status } });

/** Keyed by `apiVersion/kind` as the object itself states them ("v1/Pod", "apps/v1/Deployment"). */
const KIND_SCHEMAS: Readonly<Record<string, PatchSchema>> = {
  'v1/Pod': withMeta({ spec: { schema: POD_SPEC }, status: { schema: POD_STATUS } }),
  'v1/PodTemplate': withMeta({ template: { schema: POD_TEMPLATE_SPEC } }),
  'v1/ReplicationController': workload(),
  'apps/v1/Deployment': workload(),
  'apps/v1/ReplicaSet': workload(),
  'apps/v1/StatefulSet': workload(),
  'apps/v1/DaemonSet': workload(),
  'batch/v1/Job': workload({ conditions: { merge: true, mergeKey: 'type', listType: 'atomic' } }),
  'batch/v1/CronJob': withMeta({
    spec: { schema: { jobTemplate: { schema: withMeta({ spec: { schema: { template: { schema: POD_TEMPLATE_SPEC } } } }) } } },
  }),
  'v1/Service': withMeta({ spec: { schema: { ports: byKey('port', undefined, ['port', 'protocol']) } }, status: { schema: CONDITIONS_STATUS } }),
  'v1/ServiceAccount': withMeta({ secrets: byKey('name') }),
  'v1/Namespace': withMeta({ status: { schema: CONDITIONS_STATUS } }),
  'v1/ConfigMap': withMeta({}),
  'v1/Secret': withMeta({}),
  'v1/PersistentVolumeClaim': withMeta({ status: { schema: CONDITIONS_STATUS } }),
  'v1/Node': withMeta({ spec: { schema: { podCIDRs: { merge: true, listType: 'set' } } }, status: { schema: { conditions: byKey('type'), addresses: byKey('type') } } }),
  'autoscaling/v1/Scale': withMeta({}),
};

/** The built-in fallback schema of a kind, by its apiVersion and kind. */
export function schemaForKind(apiVersion: unknown, kind: unknown): PatchSchema | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  return Object.hasOwn(KIND_SCHEMAS, `${apiVersion}/${kind}`) ? KIND_SCHEMAS[`${apiVersion}/${kind}`] : undefined;
}

export function fieldOf(schema: PatchSchema | undefined, key: string): PatchField | undefined {
  if (schema === undefined) return undefined;
  if (Object.hasOwn(schema, key)) return schema[key];
  return Object.hasOwn(schema, '*') ? schema['*'] : undefined;
}
