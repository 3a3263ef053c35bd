import type { MaskingPlan } from './masking-plan.ts';

// Machinery the API server writes, which clients resend (resourceVersion resumes a watch): never
// personal data, and a detector mistaking one for a number must not break a client.
const MACHINERY_KEYS = new Set(['apiVersion', 'kind', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'continue', 'selfLink']);
const SKIPPED_SUBTREES = new Set(['managedFields']);

/**
 * One JSON document (a get or list body, a watch event) masked under the plan: the paths' values
 * hidden, then the detectors' findings in every string value replaced. Returns the document to
 * send and how many values were hidden. `owned`: the caller parsed the document for this alone,
 * so it is masked in place rather than copied first.
 */
export function maskDocument(document: unknown, plan: MaskingPlan, owned = false): { readonly document: unknown; readonly masked: number } {
  let masked = 0;
  let current = document;
  if (plan.pathMasker) {
    const result = owned ? plan.pathMasker.maskInPlace(current) : plan.pathMasker.mask(current);
    current = result.value;
    masked += result.masked;
  }
  if (plan.detectorMasker) {
    const masker = plan.detectorMasker();
    current = scrubStrings(current, (text) => {
      const bytes = Buffer.concat([masker.push(Buffer.from(text, 'utf8')), masker.end()]);
      return bytes.toString('utf8');
    });
    masked += masker.masked;
  }
  return { document: current, masked };
}

function scrubStrings(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((item) => scrubStrings(item, scrub));
  if (typeof value !== 'object' || value === null) return value;
  // Without a prototype, a `__proto__` key stays a key.
  const copy: Record<string, unknown> = Object.create(null);
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = SKIPPED_SUBTREES.has(key) || (MACHINERY_KEYS.has(key) && typeof inner === 'string') ? inner : scrubStrings(inner, scrub);
  }
  return copy;
}
