/**
 * Where the built-in types carry strategic-merge metadata: the lists that merge (by a merge key,
 * or as a set of primitives) instead of being replaced, and the types below them. These are the
 * `patchStrategy`/`patchMergeKey` tags of the Go types the API server (v1.34) patches with;
 * a field not listed is a map that merges member by member or a list the patch replaces.
 * Server-side apply merges by `listMapKeys`, which differ from the merge keys in a few places
 * (`applyKeys`). Only the kinds listed here are resolved; any other kind is refused.
 */

export interface PatchField {
  /** The list merges instead of being replaced. */
  merge?: true;
  /** Merge key of a list of objects; absent for a merging list of primitives. */
  mergeKey?: string;
  /** Server-side apply's list-map keys, when they are not just the merge key. */
  applyKeys?: readonly string[];
  /** A list server-side apply merges by these keys though a strategic patch replaces it. */
  applyOnlyKeys?: readonly string[];
  /** The type of the value (of each element, for a list). */
  schema?: PatchSchema;
}

export type PatchSchema = Readonly<Record<string, PatchField>>;

const byKey = (mergeKey: string, schema?: PatchSchema, applyKeys?: readonly string[]): PatchField => ({
  merge: true,
  mergeKey,
  ...(schema ? { schema } : {}),
  ...(applyKeys ? { applyKeys } : {}),
});

const OBJECT_META: PatchSchema = {
  finalizers: { merge: true },
  ownerReferences: byKey('uid'),
};

const CONTAINER: PatchSchema = {
  ports: byKey('containerPort', undefined, ['containerPort', 'protocol']),
  env: byKey('name'),
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
  resources: { schema: { claims: { applyOnlyKeys: ['name'] } } },
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
  hostIPs: byKey('ip'),
  podIPs: byKey('ip'),
  resourceClaimStatuses: byKey('name'),
};

const POD_TEMPLATE_SPEC: PatchSchema = { metadata: { schema: OBJECT_META }, spec: { schema: POD_SPEC } };
const CONDITIONS_STATUS: PatchSchema = { conditions: byKey('type') };

const withMeta = (fields: PatchSchema): PatchSchema => ({ metadata: { schema: OBJECT_META }, ...fields });
const workload = (): PatchSchema => withMeta({ spec: { schema: { template: { schema: POD_TEMPLATE_SPEC } } }, status: { schema: CONDITIONS_STATUS } });

/** Keyed by `apiVersion/kind` as the object itself states them ("v1/Pod", "apps/v1/Deployment"). */
const KIND_SCHEMAS: Readonly<Record<string, PatchSchema>> = {
  'v1/Pod': withMeta({ spec: { schema: POD_SPEC }, status: { schema: POD_STATUS } }),
  'v1/PodTemplate': withMeta({ template: { schema: POD_TEMPLATE_SPEC } }),
  'v1/ReplicationController': workload(),
  'apps/v1/Deployment': workload(),
  'apps/v1/ReplicaSet': workload(),
  'apps/v1/StatefulSet': workload(),
  'apps/v1/DaemonSet': workload(),
  'batch/v1/Job': workload(),
  'batch/v1/CronJob': withMeta({
    spec: { schema: { jobTemplate: { schema: withMeta({ spec: { schema: { template: { schema: POD_TEMPLATE_SPEC } } } }) } } },
  }),
  'v1/Service': withMeta({ spec: { schema: { ports: byKey('port', undefined, ['port', 'protocol']) } }, status: { schema: CONDITIONS_STATUS } }),
  'v1/ServiceAccount': withMeta({ secrets: byKey('name') }),
  'v1/Namespace': withMeta({ status: { schema: CONDITIONS_STATUS } }),
  'v1/ConfigMap': withMeta({}),
  'v1/Secret': withMeta({}),
  'v1/PersistentVolumeClaim': withMeta({ status: { schema: CONDITIONS_STATUS } }),
  'v1/Node': withMeta({ spec: { schema: { podCIDRs: { merge: true } } }, status: { schema: { conditions: byKey('type'), addresses: byKey('type') } } }),
  'autoscaling/v1/Scale': withMeta({}),
};

export function schemaForKind(apiVersion: unknown, kind: unknown): PatchSchema | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  return Object.hasOwn(KIND_SCHEMAS, `${apiVersion}/${kind}`) ? KIND_SCHEMAS[`${apiVersion}/${kind}`] : undefined;
}

export function fieldOf(schema: PatchSchema | undefined, key: string): PatchField | undefined {
  return schema && Object.hasOwn(schema, key) ? schema[key] : undefined;
}
