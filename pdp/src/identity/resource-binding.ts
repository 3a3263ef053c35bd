/**
 * Which resources a PEP credential fronts. The binding is a claim of the PEP's own token
 * (`portcullis_resources` by default), set by the issuer that vouches for the PEP, so every PDP
 * replica reads the same binding without shared state and it ends with the token. Each entry is
 * a resource name or a glob over names (`*` any run of characters, `?` one), optionally typed
 * (`postgres:orders-db`, `ssh:web-*`). A PEP token without the claim fronts nothing (fail closed);
 * `*` alone fronts every resource and is meant for a PDP-wide client such as a test harness.
 */
export const PEP_RESOURCES_CLAIM = 'portcullis_resources';

const MAX_PATTERNS = 256;
const MAX_PATTERN_CHARS = 256;
/** Names as the decision contract allows them, plus the two wildcards; no spaces or control characters. */
const PATTERN_TEXT = /^[^\s\u0000-\u001f\u007f]+$/;

export interface ResourceRef {
  readonly type: string;
  readonly name: string;
}

export interface ResourceBinding {
  /** The entries as the token states them (for messages and the audit record). */
  readonly patterns: readonly string[];
  fronts(resource: ResourceRef): boolean;
}

export type BindingResult = { ok: true; binding: ResourceBinding } | { ok: false; message: string };

/** Reads the claim's value: an array of entries or one space-separated string. */
export function readResourceBinding(value: unknown, claim: string): BindingResult {
  if (value === undefined || value === null) return { ok: false, message: `the PEP token names no resources it fronts (claim ${claim})` };
  const entries = typeof value === 'string' ? value.split(/\s+/).filter((entry) => entry !== '') : value;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_PATTERNS) {
    return { ok: false, message: `the PEP token's ${claim} claim must list 1 to ${MAX_PATTERNS} resource names or patterns` };
  }
  const matchers: Array<(resource: ResourceRef) => boolean> = [];
  for (const entry of entries) {
    const problem = resourcePatternProblem(entry);
    if (problem !== undefined) return { ok: false, message: `the PEP token's ${claim} claim is malformed: ${problem}` };
    matchers.push(patternMatcher(entry as string));
  }
  const patterns = Object.freeze([...(entries as string[])]);
  return { ok: true, binding: Object.freeze({ patterns, fronts: (resource: ResourceRef) => matchers.some((matches) => matches(resource)) }) };
}

/** Why an entry cannot be a binding pattern, or undefined when it can (the dev issuer checks with it too). */
export function resourcePatternProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string' || entry === '') return 'each entry must be a non-empty string';
  if (entry.length > MAX_PATTERN_CHARS) return `an entry is longer than ${MAX_PATTERN_CHARS} characters`;
  if (!PATTERN_TEXT.test(entry)) return 'an entry holds spaces or control characters';
  const colon = entry.indexOf(':');
  if (colon === 0 || colon === entry.length - 1) return `"${entry}" has an empty type or name`;
  return undefined;
}

function patternMatcher(entry: string): (resource: ResourceRef) => boolean {
  const colon = entry.indexOf(':');
  const name = globMatcher(colon === -1 ? entry : entry.slice(colon + 1));
  if (colon === -1) return (resource) => name(resource.name);
  const type = globMatcher(entry.slice(0, colon));
  return (resource) => type(resource.type) && name(resource.name);
}

function globMatcher(glob: string): (text: string) => boolean {
  if (!/[*?]/.test(glob)) return (text) => text === glob;
  return (text) => globMatches(glob, text);
}

/** Wildcard match in O(glob × text): on a mismatch, only the last `*` is retried (no regex backtracking). */
function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g;
      resume = t;
      g += 1;
    } else if (g < glob.length && (glob[g] === '?' || glob[g] === text[t])) {
      g += 1;
      t += 1;
    } else if (star !== -1) {
      g = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g += 1;
  return g === glob.length;
}
