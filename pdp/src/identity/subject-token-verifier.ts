import type { TokenVerifier, VerifyResult } from './token-verifier.ts';

/** How a PEP's own credential is told apart: the same settings that admit a PEP (config.identity). */
export interface PepCredentialMarks {
  /** The role a PEP token carries (`pep` by default). */
  readonly pepRole: string;
  /** The claim naming the resources a PEP fronts (resource-binding.ts). */
  readonly pepResourcesClaim: string;
}

/**
 * Verifies the token of the principal a decision is for (an agent's or a person's), and refuses a
 * PEP's own credential there: a token with the PEP role or the resource binding claim names an
 * enforcement point, which acts for no one. Accepted as a subject, it would let whoever holds a
 * PEP's token (the PEP, or anyone it leaked to through a log or a misconfigured client) act with
 * the PEP's identity and whatever roles its issuer gave it. The refusal is a failed verification
 * like any other: policy sees an unauthenticated principal, and the record names the reason.
 */
export class SubjectTokenVerifier implements TokenVerifier {
  constructor(
    private readonly tokens: TokenVerifier,
    private readonly marks: PepCredentialMarks,
  ) {}

  async verify(token: string | undefined): Promise<VerifyResult> {
    const result = await this.tokens.verify(token);
    if (!result.ok) return result;
    const { roles, claims } = result.principal;
    if (roles.includes(this.marks.pepRole) || claims[this.marks.pepResourcesClaim] !== undefined) {
      return {
        ok: false,
        code: 'token-pep-credential',
        message: `the subject token is a PEP's credential (role ${this.marks.pepRole} or claim ${this.marks.pepResourcesClaim}): a PEP is never the subject of a decision`,
      };
    }
    return result;
  }
}
