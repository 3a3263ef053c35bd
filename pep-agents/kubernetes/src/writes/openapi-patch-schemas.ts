import type { KubeUpstream } from '../upstream/kube-upstream.ts';
import { getMember, isJsonObject, type JsonObject, type JsonValue } from './json-value.ts';
import type { PatchField, PatchSchema } from './strategic-merge-schema.ts';
import { getUpstreamJson } from './upstream-json.ts';

/**
 * The merge metadata of any kind the API server serves, read from its own OpenAPI v3: for each
 * field `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` (strategic merge) and
 * `x-kubernetes-list-type` / `x-kubernetes-list-map-keys` / `x-kubernetes-map-type` (server-side
 * apply), which the API server generates from the same Go tags it patches with (and, for a custom
 * resource, from its CRD's schema). The index (`/openapi/v3`) is kept a short while; a group
 * version's document is named by its content hash, so it is kept until the index names another.
 * `undefined` when the OpenAPI cannot be read or does not name the kind: the caller falls back to
 * its built-in table or refuses.
 */

const INDEX_TTL_MS = 60_000;
const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
const MAX_DOCUMENTS = 32;
const MAX_SCHEMAS = 1024;

interface Index {
  readonly paths: ReadonlyMap<string, string>;
  readonly fetchedAt: number;
}

export class OpenApiPatchSchemas {
  private index: Promise<Index | undefined> | undefined;
  private readonly documents = new Map<string, Promise<JsonObject | undefined>>();
  private readonly schemas = new Map<string, PatchSchema | undefined>();

  constructor(private readonly now: () => number = Date.now) {}

  async schemaFor(upstream: KubeUpstream, apiVersion: unknown, kind: unknown, signal?: AbortSignal): Promise<PatchSchema | undefined> {
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
    const slash = apiVersion.indexOf('/');
    const [group, version] = slash === -1 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    const index = await this.readIndex(upstream, signal);
    const url = index?.paths.get(group === '' ? `api/${version}` : `apis/${group}/${version}`);
    if (url === undefined) return undefined;
    const memo = `${url}#${kind}`;
    if (this.schemas.has(memo)) return this.schemas.get(memo);
    const document = await this.readDocument(upstream, url, signal);
    const schemas = document === undefined ? undefined : getMember(document, 'components');
    const components = isJsonObject(schemas) ? getMember(schemas, 'schemas') : undefined;
    const schema = isJsonObject(components) ? kindSchema(components, group, version, kind) : undefined;
    if (document !== undefined) {
      // Documents are replaced as the served schemas change; the kinds read from old ones go with them.
      if (this.schemas.size >= MAX_SCHEMAS) this.schemas.clear();
      this.schemas.set(memo, schema);
    }
    return schema;
  }

  private readIndex(upstream: KubeUpstream, signal?: AbortSignal): Promise<Index | undefined> {
    const current = this.index;
    if (current !== undefined) {
      return current.then((index) => {
        if (index !== undefined && this.now() - index.fetchedAt < INDEX_TTL_MS) return index;
        if (this.index === current) this.index = undefined;
        return this.readIndex(upstream, signal);
      });
    }
    const fetched = getUpstreamJson(upstream, '/openapi/v3', MAX_DOCUMENT_BYTES, signal).then((answer): Index | undefined => {
      const paths = 'status' in answer && answer.status === 200 && isJsonObject(answer.json) ? getMember(answer.json, 'paths') : undefined;
      if (!isJsonObject(paths)) {
        this.index = undefined;
        return undefined;
      }
      const urls = new Map<string, string>();
      for (const [name, entry] of Object.entries(paths)) {
        const url = isJsonObject(entry) ? getMember(entry, 'serverRelativeURL') : undefined;
        if (typeof url === 'string' && url.startsWith('/openapi/v3/')) urls.set(name, url);
      }
      return { paths: urls, fetchedAt: this.now() };
    });
    this.index = fetched;
    return fetched;
  }

  private readDocument(upstream: KubeUpstream, url: string, signal?: AbortSignal): Promise<JsonObject | undefined> {
    const known = this.documents.get(url);
    if (known !== undefined) return known;
    const fetched = getUpstreamJson(upstream, url, MAX_DOCUMENT_BYTES, signal).then((answer) => {
      if ('status' in answer && answer.status === 200 && isJsonObject(answer.json)) return answer.json;
      this.documents.delete(url);
      return undefined;
    });
    if (this.documents.size >= MAX_DOCUMENTS) {
      const oldest = this.documents.keys().next().value;
      if (oldest !== undefined) this.documents.delete(oldest);
    }
    this.documents.set(url, fetched);
    return fetched;
  }
}

function kindSchema(components: JsonObject, group: string, version: string, kind: string): PatchSchema | undefined {
  for (const [name, component] of Object.entries(components)) {
    if (!isJsonObject(component)) continue;
    const kinds = getMember(component, 'x-kubernetes-group-version-kind');
    if (!Array.isArray(kinds)) continue;
    const matches = kinds.some((entry) => isJsonObject(entry) && entry.group === group && entry.version === version && entry.kind === kind);
    if (matches) return new SchemaReader(components).component(name);
  }
  return undefined;
}

/** Turns OpenAPI schemas into PatchSchemas; a component is read once, so recursive types end. */
class SchemaReader {
  private readonly read = new Map<string, Record<string, PatchField>>();

  constructor(private readonly components: JsonObject) {}

  component(name: string): PatchSchema | undefined {
    const known = this.read.get(name);
    if (known !== undefined) return known;
    const component = getMember(this.components, name);
    if (!isJsonObject(component)) return undefined;
    const fields: Record<string, PatchField> = {};
    this.read.set(name, fields);
    this.fill(fields, component);
    return fields;
  }

  private fill(fields: Record<string, PatchField>, schema: JsonObject): void {
    const properties = getMember(schema, 'properties');
    if (isJsonObject(properties)) {
      for (const [name, property] of Object.entries(properties)) {
        if (!isJsonObject(property)) continue;
        const field = this.field(property);
        if (field !== undefined) Object.defineProperty(fields, name, { value: field, enumerable: true });
      }
    }
    const values = getMember(schema, 'additionalProperties');
    if (isJsonObject(values)) {
      const field = this.field(values);
      if (field !== undefined) Object.defineProperty(fields, '*', { value: field, enumerable: true });
    }
  }

  /** A field's metadata, or undefined when it carries none at any depth that a merge could reach. */
  private field(property: JsonObject): PatchField | undefined {
    const field: PatchField = {};
    const strategies = String(getMember(property, 'x-kubernetes-patch-strategy') ?? '').split(',');
    if (strategies.includes('merge')) field.merge = true;
    if (strategies.includes('replace')) field.replace = true;
    const mergeKey = getMember(property, 'x-kubernetes-patch-merge-key');
    if (typeof mergeKey === 'string') field.mergeKey = mergeKey;
    const listType = getMember(property, 'x-kubernetes-list-type');
    if (listType === 'atomic' || listType === 'set' || listType === 'map') field.listType = listType;
    const keys = getMember(property, 'x-kubernetes-list-map-keys');
    if (Array.isArray(keys) && keys.every((key): key is string => typeof key === 'string')) field.listMapKeys = keys;

    const target = getMember(property, 'type') === 'array' ? getMember(property, 'items') : property;
    if (isJsonObject(target)) {
      const reference = referenceOf(target);
      const referenced = reference === undefined ? undefined : getMember(this.components, reference);
      if (getMember(target, 'x-kubernetes-map-type') === 'atomic' || (isJsonObject(referenced) && getMember(referenced, 'x-kubernetes-map-type') === 'atomic')) field.atomicMap = true;
      const schema = reference !== undefined ? this.component(reference) : this.inline(target);
      if (schema !== undefined) field.schema = schema;
    }
    return Object.keys(field).length === 0 ? undefined : field;
  }

  private inline(schema: JsonObject): PatchSchema | undefined {
    if (!isJsonObject(getMember(schema, 'properties')) && !isJsonObject(getMember(schema, 'additionalProperties'))) return undefined;
    const fields: Record<string, PatchField> = {};
    this.fill(fields, schema);
    return Object.keys(fields).length === 0 ? undefined : fields;
  }
}

/** The component a schema names, directly (`$ref`) or as the one member of `allOf`. */
function referenceOf(schema: JsonObject): string | undefined {
  const direct = getMember(schema, '$ref');
  const allOf = getMember(schema, 'allOf');
  const first: JsonValue | undefined = Array.isArray(allOf) && allOf.length === 1 ? allOf[0] : undefined;
  const reference = typeof direct === 'string' ? direct : isJsonObject(first) ? getMember(first, '$ref') : undefined;
  const prefix = '#/components/schemas/';
  return typeof reference === 'string' && reference.startsWith(prefix) ? reference.slice(prefix.length) : undefined;
}
