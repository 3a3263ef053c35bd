import { parseArrayIndex, parseJsonPointer } from './json-pointer.ts';
import { deepClone, deepEqual, encodedSize, getMember, hasMember, isJsonObject, type JsonObject, type JsonValue, setMember } from './json-value.ts';
import { PatchError } from './patch-error.ts';

/**
 * JSON Patch (RFC 6902, `application/json-patch+json`) applied to the current object: every
 * operation (add, remove, replace, move, copy, test), JSON Pointer escapes, '-' to append.
 * Where the API server's library accepts more than the RFC (negative or signed indices, a
 * pointer without a leading '/', an operation on the whole document), the resolver refuses;
 * where both accept, both compute the same document. Copies are bounded like the API server's,
 * so a patch cannot grow a small object into a huge one.
 */

export const MAX_JSON_PATCH_OPERATIONS = 10_000;

export interface JsonPatchOperation {
  op: string;
  path: string;
  from?: string;
  value?: JsonValue;
}

export function readJsonPatch(patch: unknown): JsonPatchOperation[] {
  if (!Array.isArray(patch)) throw new PatchError('invalid', 'a JSON Patch is an array of operations');
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) throw new PatchError('too-large', `a JSON Patch may hold at most ${MAX_JSON_PATCH_OPERATIONS} operations`);
  return patch.map((operation, index) => {
    if (!isJsonObject(operation)) throw new PatchError('invalid', `JSON Patch operation ${index} is not an object`);
    const op = getMember(operation, 'op');
    const path = getMember(operation, 'path');
    if (typeof op !== 'string') throw new PatchError('invalid', `JSON Patch operation ${index} has no "op"`);
    if (typeof path !== 'string') throw new PatchError('invalid', `JSON Patch operation ${index} has no "path"`);
    const read: JsonPatchOperation = { op, path };
    if (op === 'add' || op === 'replace' || op === 'test') {
      if (!hasMember(operation, 'value')) throw new PatchError('invalid', `JSON Patch operation ${index} (${op}) has no "value"`);
      read.value = operation.value as JsonValue;
    } else if (op === 'move' || op === 'copy') {
      const from = getMember(operation, 'from');
      if (typeof from !== 'string') throw new PatchError('invalid', `JSON Patch operation ${index} (${op}) has no "from"`);
      read.from = from;
    } else if (op !== 'remove') {
      throw new PatchError('invalid', `JSON Patch operation ${index} has an unknown op "${op}"`);
    }
    return read;
  });
}

/** The document after every operation, or a PatchError; `document` is not modified. */
export function applyJsonPatch(document: JsonObject, operations: JsonPatchOperation[], maxBytes: number): JsonObject {
  const root: JsonObject = deepClone(document);
  let copiedBytes = 0;
  for (const operation of operations) {
    const tokens = parseJsonPointer(operation.path);
    if (tokens.length === 0) throw new PatchError('unsupported', `JSON Patch "${operation.op}" on the whole document is not resolved`);
    switch (operation.op) {
      case 'add':
        addAt(root, tokens, deepClone(operation.value as JsonValue));
        break;
      case 'remove':
        removeAt(root, tokens);
        break;
      case 'replace':
        replaceAt(root, tokens, deepClone(operation.value as JsonValue));
        break;
      case 'test':
        if (!deepEqual(valueAt(root, tokens), operation.value)) throw new PatchError('invalid', `JSON Patch test at "${operation.path}" failed`);
        break;
      case 'move': {
        const from = parseJsonPointer(operation.from);
        if (from.length === 0) throw new PatchError('unsupported', 'JSON Patch "move" of the whole document is not resolved');
        if (from.length < tokens.length && from.every((token, index) => tokens[index] === token)) {
          throw new PatchError('invalid', `JSON Patch cannot move "${operation.from}" into itself`);
        }
        const value = removeAt(root, from);
        addAt(root, tokens, value);
        break;
      }
      case 'copy': {
        const from = parseJsonPointer(operation.from);
        const value = deepClone(valueAt(root, from));
        copiedBytes += encodedSize(value);
        if (copiedBytes > maxBytes) throw new PatchError('too-large', `JSON Patch copies more than ${maxBytes} bytes`);
        addAt(root, tokens, value);
        break;
      }
    }
  }
  if (encodedSize(root) > maxBytes) throw new PatchError('too-large', `the patched object is larger than ${maxBytes} bytes`);
  return root;
}

function valueAt(root: JsonValue, tokens: string[]): JsonValue {
  let current: JsonValue = root;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      current = current[parseArrayIndex(token, current.length, false)] as JsonValue;
    } else if (isJsonObject(current)) {
      if (!hasMember(current, token)) throw new PatchError('invalid', `JSON Patch path "/${tokens.join('/')}" does not exist`);
      current = current[token] as JsonValue;
    } else {
      throw new PatchError('invalid', `JSON Patch path "/${tokens.join('/')}" goes through a value that is neither object nor array`);
    }
  }
  return current;
}

function parentOf(root: JsonObject, tokens: string[]): { parent: JsonObject | JsonValue[]; last: string } {
  const parent = valueAt(root, tokens.slice(0, -1));
  if (!Array.isArray(parent) && !isJsonObject(parent)) throw new PatchError('invalid', `JSON Patch path "/${tokens.join('/')}" has no object or array to hold it`);
  return { parent, last: tokens[tokens.length - 1] as string };
}

function addAt(root: JsonObject, tokens: string[], value: JsonValue): void {
  const { parent, last } = parentOf(root, tokens);
  if (Array.isArray(parent)) parent.splice(parseArrayIndex(last, parent.length, true), 0, value);
  else setMember(parent, last, value);
}

function removeAt(root: JsonObject, tokens: string[]): JsonValue {
  const { parent, last } = parentOf(root, tokens);
  if (Array.isArray(parent)) return parent.splice(parseArrayIndex(last, parent.length, false), 1)[0] as JsonValue;
  if (!hasMember(parent, last)) throw new PatchError('invalid', `JSON Patch cannot remove "/${tokens.join('/')}": it does not exist`);
  const removed = parent[last] as JsonValue;
  delete parent[last];
  return removed;
}

function replaceAt(root: JsonObject, tokens: string[], value: JsonValue): void {
  const { parent, last } = parentOf(root, tokens);
  if (Array.isArray(parent)) {
    parent[parseArrayIndex(last, parent.length, false)] = value;
    return;
  }
  if (!hasMember(parent, last)) throw new PatchError('invalid', `JSON Patch cannot replace "/${tokens.join('/')}": it does not exist`);
  setMember(parent, last, value);
}
