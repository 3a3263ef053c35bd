import { getMember, hasMember, isJsonObject, type JsonObject, type JsonValue, setMember } from './json-value.ts';
import { PatchError } from './patch-error.ts';

/**
 * What binds a forwarded write to the object the resolver read, so the API server cannot store
 * the patch applied to anything else: the patched object's `metadata.resourceVersion` set to the
 * version read, which the API server holds as a precondition (409 Conflict when the object has
 * changed since). A JSON Patch gets a final `replace` of `/metadata/resourceVersion`; merge,
 * strategic merge and apply bodies carry it in `metadata`. The resolver checks that the version
 * survives in the object it resolved, so no operation of the client's can undo the binding.
 */

export function currentResourceVersion(current: JsonObject): string {
  const metadata = getMember(current, 'metadata');
  const version = isJsonObject(metadata) ? getMember(metadata, 'resourceVersion') : undefined;
  if (typeof version !== 'string' || version === '') throw new PatchError('unsupported', 'the object has no resourceVersion to bind the write to');
  return version;
}

export function replaceResourceVersion(operations: JsonValue[], resourceVersion: string): JsonValue[] {
  return [...operations, { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }];
}

export function withResourceVersion(patch: JsonValue, resourceVersion: string): JsonObject {
  if (!isJsonObject(patch)) throw new PatchError('invalid', 'the patch must be a JSON object');
  const bound: JsonObject = { ...patch };
  const metadata = hasMember(patch, 'metadata') ? patch.metadata : undefined;
  if (metadata === undefined) {
    setMember(bound, 'metadata', { resourceVersion });
    return bound;
  }
  if (!isJsonObject(metadata)) {
    throw new PatchError('unsupported', 'a patch that replaces or removes metadata as a whole is not resolved');
  }
  if (hasMember(metadata, 'resourceVersion') && metadata.resourceVersion !== resourceVersion) {
    throw new PatchError('conflict', 'the patch names a resourceVersion other than the object\'s current one: the object has been modified; read it again');
  }
  const boundMetadata: JsonObject = { ...metadata };
  setMember(boundMetadata, 'resourceVersion', resourceVersion);
  setMember(bound, 'metadata', boundMetadata);
  return bound;
}
