/**
 * Why a write could not be resolved. `invalid`: the patch cannot apply (the API server would
 * refuse it too); `unsupported`: the resolver cannot model it, so it is refused rather than
 * guessed; `conflict`: the client's own precondition cannot hold; `too-large`: past a limit.
 */
export type PatchErrorKind = 'invalid' | 'unsupported' | 'conflict' | 'too-large';

export class PatchError extends Error {
  constructor(
    readonly kind: PatchErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}
