/**
 * A Secret's values withheld from what a write's decision carries onward: policy input, the
 * decision record and the approval an approver sees. Policy judges a Secret write on its names,
 * keys, type and labels, never its values; the approval stays bound to the exact values through
 * a keyed digest of the request as sent (decisions/decision-service.ts).
 *
 * Withheld: every value under `data` and `stringData`, the last-applied annotation (kubectl
 * apply copies the whole Secret into it), every `value` of a JSON Patch operation (its path may
 * name any of those), and a body that is not JSON (an apply patch as YAML text).
 */

export const WITHHELD = '[withheld]';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const VALUE_MAPS = new Set(['data', 'stringData']);

export function withholdSecretValues(value: unknown): unknown {
  if (typeof value === 'string') return WITHHELD;
  return copy(value);
}

function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (isPatchOperation(item) ? withholdOperationValue(item) : copy(item)));
  if (typeof value !== 'object' || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === LAST_APPLIED) result[key] = WITHHELD;
    else if (VALUE_MAPS.has(key)) result[key] = withholdMapValues(inner);
    else result[key] = copy(inner);
  }
  return result;
}

/** Keys stay (policy and approvers may read which keys change), values go. */
function withholdMapValues(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value === null ? null : WITHHELD;
  return Object.fromEntries(Object.keys(value).map((key) => [key, WITHHELD]));
}

function isPatchOperation(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Record<string, unknown>).op === 'string';
}

function withholdOperationValue(operation: Record<string, unknown>): Record<string, unknown> {
  const result = copy(operation) as Record<string, unknown>;
  if ('value' in operation) result.value = WITHHELD;
  return result;
}
