/**
 * Why a write could not be resolved. `malformed`: the body cannot be read as its type says;
 * `invalid`: the patch cannot apply (the API server would
 * refuse it too); `unsupported`: the resolver cannot model it, so it is refused rather than
 * guessed; `unmodelled-kind`: a strategic merge patch of a kind whose merge keys are not known
 * (answered like the API server answers one for a custom resource, so kubectl apply falls back
 * to a merge patch); `conflict`: the client's own precondition cannot hold; `too-large`: past a limit.
 */
export type PatchErrorKind = 'malformed' | 'invalid' | 'unsupported' | 'unmodelled-kind' | 'conflict' | 'too-large';

export class PatchError extends Error {
  constructor(
    readonly kind: PatchErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

const KIND_CODES = { malformed: 400, invalid: 422, unsupported: 403, 'unmodelled-kind': 415, conflict: 409, 'too-large': 413 } as const satisfies Record<PatchErrorKind, number>;

/** The HTTP code a refusal of this kind is answered with. */
export function patchErrorCode(kind: PatchErrorKind): (typeof KIND_CODES)[PatchErrorKind] {
  return KIND_CODES[kind];
}
