import type { WriteResolution, WriteResolveOptions, WriteResolver } from '../pipeline/write-resolution.ts';
import type { KubeRequest } from '../request/kube-request.ts';
import { kubeStatus } from '../status/kube-status.ts';
import type { KubeUpstream } from '../upstream/kube-upstream.ts';
import { readCurrentObject } from './current-object.ts';
import { applyJsonMergePatch } from './json-merge-patch.ts';
import { applyJsonPatch, readJsonPatch } from './json-patch.ts';
import { OpenApiPatchSchemas } from './openapi-patch-schemas.ts';
import { encodedSize, getMember, isJsonObject, type JsonObject, type JsonValue } from './json-value.ts';
import { PatchError, patchErrorCode } from './patch-error.ts';
import { currentResourceVersion, replaceResourceVersion, withResourceVersion } from './resource-version-precondition.ts';
import { applyServerSide } from './server-side-apply.ts';
import { applyStrategicMergePatch } from './strategic-merge-patch.ts';
import { schemaForKind } from './strategic-merge-schema.ts';
import { parseJsonBody, parseYamlBody } from './write-body.ts';
import { readWriteContentType, type WriteBodyType } from './write-content-type.ts';

/**
 * What a create, update or patch will store, resolved before the decision, and the body to
 * forward so that the API server stores exactly that.
 *
 * - create/update (JSON): the body is the object; forwarded as sent. YAML is forwarded as the
 *   JSON it was read as.
 * - patch (JSON Patch, merge, strategic merge, apply): the current object is read with a GET of
 *   the same path through the upstream, the patch applied to it, and the forwarded patch bound to
 *   that object's resourceVersion (see resource-version-precondition.ts): if the object changes
 *   between the read and the write, the API server answers 409 Conflict and stores nothing.
 *   An apply to an object that does not exist (404) is a create of the applied configuration.
 *
 * `body` is the forwarded body as JSON (what policy sees as the request body), `object` what it
 * stores; both are what the action carries.
 */

/**
 * The largest current or resolved object, in bytes: at least the request-body limit, and room for
 * any object the API server stores (etcd takes requests up to 1.5 MiB by default; JSON is larger).
 */
const MIN_OBJECT_BYTES = 4 * 1024 * 1024;

interface Limits {
  readonly maxBodyBytes: number;
  readonly maxObjectBytes: number;
  readonly signal?: AbortSignal;
}

type ResolvedWrite = Exclude<WriteResolution, { readonly refusal: unknown }>;

const REFUSAL_PREFIX = 'portcullis: the enforcement point cannot resolve what this write would store: ';

/** The PEP's WriteResolver, with its cache of the API server's merge metadata. */
export function createWriteResolver(): WriteResolver {
  const schemas = new OpenApiPatchSchemas();
  return (request, upstream, options) => resolveWrite(request, upstream, options, schemas);
}

async function resolveWrite(request: KubeRequest, upstream: KubeUpstream, { bodyLimit, signal }: WriteResolveOptions, schemas: OpenApiPatchSchemas): Promise<WriteResolution> {
  const options: Limits = { maxBodyBytes: bodyLimit, maxObjectBytes: Math.max(bodyLimit, MIN_OBJECT_BYTES), ...(signal ? { signal } : {}) };
  const method = request.method;
  if (request.body.length > options.maxBodyBytes) {
    return { refusal: kubeStatus(413, `portcullis: the request body is larger than the enforcement point accepts (${options.maxBodyBytes} bytes)`) };
  }
  if (request.body.length === 0 && method === 'PATCH') return { refusal: kubeStatus(400, 'portcullis: a patch needs a body') };
  const contentType = readWriteContentType(singleHeader(request.headers['content-type']), method);
  if ('refused' in contentType) return { refusal: kubeStatus(415, `portcullis: ${contentType.refused}`) };

  try {
    if (method !== 'PATCH') {
      if (contentType.type === 'json') {
        const parsed = parseJsonBody(request.body);
        return { body: parsed, object: parsed, forwardBody: request.body, contentType: contentType.mediaType };
      }
      const parsed = parseYamlBody(request.body);
      return { body: parsed, object: parsed, forwardBody: Buffer.from(JSON.stringify(parsed)), contentType: 'application/json' };
    }
    return await resolvePatch(request, upstream, options, contentType.type, contentType.mediaType, schemas);
  } catch (error) {
    if (error instanceof PatchError) return { refusal: kubeStatus(patchErrorCode(error.kind), `${REFUSAL_PREFIX}${error.message}`) };
    throw error;
  }
}

async function resolvePatch(request: KubeRequest, upstream: KubeUpstream, options: Limits, type: WriteBodyType, mediaType: string, schemas: OpenApiPatchSchemas): Promise<WriteResolution> {
  const patch = type === 'apply-patch' ? parseYamlBody(request.body) : parseJsonBody(request.body);
  const current = await readCurrentObject(upstream, request.path, options.maxObjectBytes, options.signal);
  if ('refusal' in current) return current;

  if ('absent' in current) {
    if (type !== 'apply-patch') return { refusal: current.absent };
    const object = applyServerSide(undefined, patch, undefined);
    return resolved(patch, object, mediaType, options);
  }

  const found = current.found;
  const resourceVersion = currentResourceVersion(found);
  const apiVersion = getMember(found, 'apiVersion');
  const kind = getMember(found, 'kind');
  // The API server's own merge metadata for the kind; the built-in table when it cannot be read.
  const schema = (await schemas.schemaFor(upstream, apiVersion, kind, options.signal)) ?? schemaForKind(apiVersion, kind);
  switch (type) {
    case 'json-patch': {
      if (!Array.isArray(patch)) throw new PatchError('invalid', 'a JSON Patch is an array of operations');
      const bound = replaceResourceVersion(patch, resourceVersion);
      return resolved(bound, checkBound(applyJsonPatch(found, readJsonPatch(bound), options.maxObjectBytes), resourceVersion), mediaType, options);
    }
    case 'merge-patch': {
      const bound = withResourceVersion(patch, resourceVersion);
      return resolved(bound, checkBound(applyJsonMergePatch(found, bound), resourceVersion), mediaType, options);
    }
    case 'strategic-merge-patch': {
      if (schema === undefined) {
        throw new PatchError('unmodelled-kind', `a strategic merge patch of ${describeKind(found)} is not modelled; use a JSON merge patch or a JSON Patch (kubectl patch --type merge|json)`);
      }
      const bound = withResourceVersion(patch, resourceVersion);
      return resolved(bound, checkBound(applyStrategicMergePatch(found, bound, schema), resourceVersion), mediaType, options);
    }
    case 'apply-patch': {
      const bound = withResourceVersion(patch, resourceVersion);
      return resolved(bound, checkBound(applyServerSide(found, bound, schema), resourceVersion), mediaType, options);
    }
    default:
      throw new PatchError('unsupported', `${mediaType} is not a patch type`);
  }
}

/** The precondition must survive the patch itself (a patch could replace the metadata holding it). */
function checkBound(object: JsonObject, resourceVersion: string): JsonObject {
  const metadata = getMember(object, 'metadata');
  if (!isJsonObject(metadata) || getMember(metadata, 'resourceVersion') !== resourceVersion) {
    throw new PatchError('unsupported', 'the patch removes the resourceVersion that binds it to the object read');
  }
  return object;
}

function resolved(body: JsonValue, object: JsonObject, mediaType: string, options: Limits): ResolvedWrite {
  if (encodedSize(object) > options.maxObjectBytes) throw new PatchError('too-large', `the resolved object is larger than ${options.maxObjectBytes} bytes`);
  return { body, object, forwardBody: Buffer.from(JSON.stringify(body)), contentType: mediaType };
}

function describeKind(object: JsonObject): string {
  const apiVersion = getMember(object, 'apiVersion');
  const kind = getMember(object, 'kind');
  return typeof apiVersion === 'string' && typeof kind === 'string' ? `${apiVersion} ${kind}` : 'this kind';
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
