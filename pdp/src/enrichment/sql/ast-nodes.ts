/**
 * Reading the JSON parse tree libpg-query produces: node wrappers, bare (inline) structs and
 * the few scalar shapes the analyzer needs. The tree is handled as plain JSON on purpose: the
 * walker must visit every field, including ones no typed accessor knows about.
 */
import { INLINE_NODE_FIELDS } from "./inline-node-fields.ts";

export type AstObject = Record<string, unknown>;

export interface TypedNode {
  type: string;
  body: AstObject;
}

export function isAstObject(value: unknown): value is AstObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `{ "SelectStmt": {…} }` → its type and body. Struct field names never start upper case. */
export function unwrapNode(value: unknown): TypedNode | null {
  if (!isAstObject(value)) return null;
  const keys = Object.keys(value);
  if (keys.length !== 1) return null;
  const type = keys[0] as string;
  const first = type.charCodeAt(0);
  if (first < 65 || first > 90) return null;
  const body = value[type];
  return isAstObject(body) ? { type, body } : null;
}

/** The type of a bare struct sitting in `parentType.field`, when the schema fixes it. */
export function inlineFieldType(parentType: string | undefined, field: string): string | undefined {
  return parentType === undefined ? undefined : INLINE_NODE_FIELDS[parentType]?.[field];
}

/**
 * Last line of defence for a bare RangeVar in a field the inline list does not know: no other
 * raw-parse struct carries both of these fields.
 */
function looksLikeRangeVar(value: AstObject): boolean {
  return typeof value.relname === "string" && typeof value.relpersistence === "string";
}

/** Identify `value` as a node: wrapped, bare in a known field, or a recognisable bare RangeVar. */
export function typedNode(value: unknown, hint: string | undefined): TypedNode | null {
  const wrapped = unwrapNode(value);
  if (wrapped) return wrapped;
  if (!isAstObject(value)) return null;
  if (hint !== undefined) return { type: hint, body: value };
  if (looksLikeRangeVar(value)) return { type: "RangeVar", body: value };
  return null;
}

export function stringField(body: AstObject, key: string): string | undefined {
  const value = body[key];
  return typeof value === "string" ? value : undefined;
}

export function booleanField(body: AstObject, key: string): boolean {
  return body[key] === true;
}

export function listField(body: AstObject, key: string): unknown[] {
  const value = body[key];
  return Array.isArray(value) ? value : [];
}

export function objectField(body: AstObject, key: string): AstObject | undefined {
  const value = body[key];
  return isAstObject(value) ? value : undefined;
}

/** `{ "String": { "sval": "x" } }` → "x" (an omitted sval is the empty string). */
export function stringNodeValue(value: unknown): string | undefined {
  const node = unwrapNode(value);
  if (!node || node.type !== "String") return undefined;
  return stringField(node.body, "sval") ?? "";
}

/** The alias name of a FROM item (`users u`, `(SELECT …) s`), when it has one. */
export function aliasName(body: AstObject): string | undefined {
  const alias = objectField(body, "alias");
  return alias ? stringField(alias, "aliasname") : undefined;
}

/**
 * Calls `visit` for every node under `root` (root included), depth first. Used for the cheap
 * whole-subtree questions (which relations, which CTEs); the scoped walk has its own traversal.
 */
export function forEachNode(root: unknown, visit: (node: TypedNode) => void): void {
  const stack: Array<{ value: unknown; hint: string | undefined }> = [{ value: root, hint: undefined }];
  while (stack.length > 0) {
    const { value, hint } = stack.pop() as { value: unknown; hint: string | undefined };
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, hint: undefined });
      continue;
    }
    if (!isAstObject(value)) continue;
    const node = typedNode(value, hint);
    if (node) visit(node);
    const body = node ? node.body : value;
    const parentType = node?.type;
    for (const [key, child] of Object.entries(body)) {
      if (typeof child === "object" && child !== null) {
        stack.push({ value: child, hint: inlineFieldType(parentType, key) });
      }
    }
  }
}
