import { kubeStatus, type KubeStatus } from '../status/kube-status.ts';

/**
 * The JSON pointers of the values masking hid: where `masked` differs from `original`. A patch
 * resolved against the masked object stores the real values wherever it leaves them be, but a
 * JSON Patch `copy` or `move` out of one of these places would store the real value somewhere no
 * mask covers (a label, a name) while policy and the approver saw the mask.
 */
export function maskedPointers(original: unknown, masked: unknown, pointer = ''): string[] {
  if (original === masked) return [];
  const bothObjects = typeof original === 'object' && original !== null && typeof masked === 'object' && masked !== null && Array.isArray(original) === Array.isArray(masked);
  if (!bothObjects) return [pointer === '' ? '/' : pointer];
  const found: string[] = [];
  const keys = new Set([...Object.keys(original), ...Object.keys(masked)]);
  for (const key of keys) {
    const token = key.replaceAll('~', '~0').replaceAll('/', '~1');
    found.push(...maskedPointers((original as Record<string, unknown>)[key], (masked as Record<string, unknown>)[key], `${pointer}/${token}`));
  }
  return found;
}

/** A Forbidden Status when a JSON Patch copies or moves from a masked place (or one holding it), else undefined. */
export function maskedValueMove(operations: unknown, masked: readonly string[]): KubeStatus | undefined {
  if (masked.length === 0 || !Array.isArray(operations)) return undefined;
  for (const operation of operations) {
    if (typeof operation !== 'object' || operation === null) continue;
    const { op, from } = operation as { op?: unknown; from?: unknown };
    if ((op !== 'copy' && op !== 'move') || typeof from !== 'string') continue;
    if (masked.some((pointer) => pointer === '/' || pointer === from || pointer.startsWith(`${from}/`) || from.startsWith(`${pointer}/`) || from === '')) {
      return kubeStatus(403, `portcullis: this JSON Patch would ${op} a value shown to you masked (from "${from}"); policy cannot see where it would land`);
    }
  }
  return undefined;
}
