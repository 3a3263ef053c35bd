import { errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { KeysUnavailableError, type KeySource } from './key-source.ts';

export interface VerifiedPrincipal {
  sub: string;
  iss: string;
  kind: 'agent' | 'human';
  roles: string[];
  aud: string[];
  exp?: number;
  claims: Record<string, unknown>;
}

export type TokenFailureCode =
  | 'token-missing'
  | 'token-malformed'
  | 'token-expired'
  | 'token-not-yet-valid'
  | 'token-bad-signature'
  | 'token-unknown-key'
  | 'token-wrong-issuer'
  | 'token-wrong-audience'
  | 'token-algorithm-not-allowed'
  | 'token-invalid'
  | 'token-keys-unavailable'
  /** A PEP's own credential presented as a subject (subject-token-verifier.ts). */
  | 'token-pep-credential';

export type VerifyResult =
  | { ok: true; principal: VerifiedPrincipal }
  | { ok: false; code: TokenFailureCode; message: string };

export interface TokenVerifier {
  /** Never throws: every failure is a `{ ok: false }` result whose message never contains the token. */
  verify(token: string | undefined): Promise<VerifyResult>;
}

/** An issuer we accept tokens from, and the only keys allowed to sign for it. */
export interface TrustedIssuer {
  issuer: string;
  keys: KeySource;
}

/** A claim name, or a path into nested objects (e.g. `['realm_access', 'roles']`). */
export type ClaimPath = string | readonly string[];

export interface JoseTokenVerifierOptions {
  issuers: readonly TrustedIssuer[];
  /** The token's `aud` must contain at least one of these. */
  audience: string | readonly string[];
  /**
   * The token's `aud` must contain none of these: the audiences of another use of this service
   * (console sessions against agent and PEP tokens), so one token never serves both.
   */
  refusedAudiences?: readonly string[];
  /** Asymmetric JWS algorithms only. Default RS256, PS256, ES256, EdDSA. */
  algorithms?: readonly string[];
  /** Tolerance for exp, nbf and iat. Default 30 s. */
  clockSkewSeconds?: number;
  /** Array of strings, or one space-separated string. Default `roles`. */
  rolesClaim?: ClaimPath;
  /** `human` or `agent`; anything else (or missing) is `agent`, the stricter. Default `kind`. */
  kindClaim?: ClaimPath;
  /** Reject tokens without `exp`. Default true: a token that never expires is a standing credential. */
  requireExpiry?: boolean;
  /** Longer tokens are rejected before any parsing. Default 16 KiB. */
  maxTokenBytes?: number;
}

export const DEFAULT_ALGORITHMS: readonly string[] = Object.freeze(['RS256', 'PS256', 'ES256', 'EdDSA']);

/** Every algorithm that may ever be configured: public-key signatures only, so a public key can never double as an HMAC secret. */
const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
]);

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

type Failure = { ok: false; code: TokenFailureCode; message: string };

function fail(code: TokenFailureCode, message: string): Failure {
  return { ok: false, code, message };
}

/**
 * Verifies OIDC/JWT bearer tokens with jose. Before any key is touched the token is checked for
 * size, shape, a JSON header, an allowed algorithm and a trusted issuer; the issuer picks the key
 * source, so one issuer's keys can never vouch for another issuer's tokens.
 */
export class JoseTokenVerifier implements TokenVerifier {
  readonly #issuers: ReadonlyMap<string, KeySource>;
  readonly #audience: string[];
  readonly #refusedAudiences: ReadonlySet<string>;
  readonly #algorithms: string[];
  readonly #skew: number;
  readonly #rolesClaim: readonly string[];
  readonly #kindClaim: readonly string[];
  readonly #requireExpiry: boolean;
  readonly #maxTokenBytes: number;

  constructor(options: JoseTokenVerifierOptions) {
    if (options.issuers.length === 0) throw new TypeError('identity: at least one trusted issuer is required');
    const issuers = new Map<string, KeySource>();
    for (const { issuer, keys } of options.issuers) {
      if (!issuer) throw new TypeError('identity: issuer must be a non-empty string');
      if (issuers.has(issuer)) throw new TypeError(`identity: issuer ${issuer} is configured twice`);
      issuers.set(issuer, keys);
    }
    this.#issuers = issuers;

    this.#audience = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
    if (this.#audience.length === 0 || this.#audience.some((aud) => !aud)) {
      throw new TypeError('identity: audience must be one or more non-empty strings');
    }
    this.#refusedAudiences = new Set(options.refusedAudiences ?? []);
    if (this.#audience.some((aud) => this.#refusedAudiences.has(aud))) {
      throw new TypeError('identity: an audience cannot be both required and refused');
    }

    this.#algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
    if (this.#algorithms.length === 0) throw new TypeError('identity: algorithms must not be empty');
    for (const alg of this.#algorithms) {
      if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
        throw new TypeError(`identity: algorithm ${alg} is not allowed (only asymmetric JWS algorithms: ${[...ASYMMETRIC_ALGORITHMS].join(', ')})`);
      }
    }

    this.#skew = options.clockSkewSeconds ?? 30;
    if (!Number.isFinite(this.#skew) || this.#skew < 0) throw new TypeError('identity: clockSkewSeconds must be >= 0');
    this.#rolesClaim = claimPath(options.rolesClaim ?? 'roles', 'rolesClaim');
    this.#kindClaim = claimPath(options.kindClaim ?? 'kind', 'kindClaim');
    this.#requireExpiry = options.requireExpiry ?? true;
    this.#maxTokenBytes = options.maxTokenBytes ?? 16 * 1024;
    if (!Number.isInteger(this.#maxTokenBytes) || this.#maxTokenBytes <= 0) {
      throw new TypeError('identity: maxTokenBytes must be a positive integer');
    }
  }

  async verify(token: string | undefined): Promise<VerifyResult> {
    try {
      return await this.#verify(token);
    } catch {
      // Unreachable by design; kept so a jose or key-source surprise still denies instead of throwing.
      return fail('token-invalid', 'token could not be verified');
    }
  }

  async #verify(token: unknown): Promise<VerifyResult> {
    if (token === undefined || token === null || token === '') return fail('token-missing', 'no token was presented');
    if (typeof token !== 'string') return fail('token-malformed', 'token is not a string');
    if (token.length > this.#maxTokenBytes) {
      return fail('token-malformed', `token is longer than ${this.#maxTokenBytes} bytes`);
    }

    const parts = token.split('.');
    if (parts.length === 5) return fail('token-malformed', 'encrypted tokens (JWE) are not accepted');
    const [headerPart, payloadPart, signaturePart] = parts;
    if (parts.length !== 3 || headerPart === undefined || payloadPart === undefined || signaturePart === undefined) {
      return fail('token-malformed', 'token is not a compact JWS (three dot-separated parts)');
    }
    if (!parts.every((part) => BASE64URL.test(part)) || !headerPart || !payloadPart) {
      return fail('token-malformed', 'token parts are not base64url');
    }

    const header = decodeJsonObject(headerPart);
    if (!header) return fail('token-malformed', 'token header is not a JSON object');
    const { alg } = header;
    if (typeof alg !== 'string' || !this.#algorithms.includes(alg)) {
      return fail('token-algorithm-not-allowed', `token algorithm ${describeAlg(alg)} is not allowed`);
    }
    if (!signaturePart) return fail('token-malformed', 'token has no signature');

    // The issuer is read before the signature is checked only to choose whose keys to check it with;
    // jwtVerify then requires the same issuer in the signed payload.
    const unverified = decodeJsonObject(payloadPart);
    if (!unverified) return fail('token-malformed', 'token payload is not a JSON object');
    const { iss } = unverified;
    if (typeof iss !== 'string') return fail('token-wrong-issuer', 'token has no issuer');
    const keys = this.#issuers.get(iss);
    if (!keys) return fail('token-wrong-issuer', 'token issuer is not trusted');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (h, t) => keys.resolveKey(h, t), {
        algorithms: this.#algorithms,
        issuer: iss,
        audience: this.#audience,
        clockTolerance: this.#skew,
        requiredClaims: this.#requireExpiry ? ['sub', 'exp'] : ['sub'],
      }));
    } catch (error) {
      return failureFor(error);
    }
    return this.#principal(payload, iss);
  }

  #principal(payload: JWTPayload, iss: string): VerifyResult {
    const { sub, iat, exp, aud } = payload;
    if (typeof sub !== 'string' || sub.trim() === '') return fail('token-invalid', 'token subject (sub) must be a non-empty string');
    // jose checks iat only against a maximum age; an iat from the future means a token minted ahead of time.
    if (typeof iat === 'number' && iat > Date.now() / 1000 + this.#skew) {
      return fail('token-not-yet-valid', 'token was issued in the future (iat)');
    }
    const roles = readRoles(claimAt(payload, this.#rolesClaim));
    if (!roles) return fail('token-invalid', 'token roles claim must be an array of strings or a space-separated string');
    const kind = claimAt(payload, this.#kindClaim) === 'human' ? 'human' : 'agent';
    const audiences = typeof aud === 'string' ? [aud] : [...(aud ?? [])];
    if (audiences.some((audience) => this.#refusedAudiences.has(audience))) {
      return fail('token-wrong-audience', 'token audience is meant for another use of this service');
    }
    const principal: VerifiedPrincipal = {
      sub,
      iss,
      kind,
      roles,
      aud: audiences,
      claims: payload as Record<string, unknown>,
    };
    if (typeof exp === 'number') principal.exp = exp;
    return { ok: true, principal };
  }
}

function claimPath(path: ClaimPath, option: string): readonly string[] {
  const segments = typeof path === 'string' ? [path] : [...path];
  if (segments.length === 0 || segments.some((segment) => !segment)) {
    throw new TypeError(`identity: ${option} must name a claim`);
  }
  return segments;
}

function claimAt(payload: JWTPayload, path: readonly string[]): unknown {
  let value: unknown = payload;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Roles as a de-duplicated list, or undefined when the claim has a shape we refuse to guess at. */
function readRoles(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? value.split(/\s+/) : value;
  if (!Array.isArray(list) || !list.every((role): role is string => typeof role === 'string')) return undefined;
  return [...new Set(list.map((role) => role.trim()).filter((role) => role !== ''))];
}

function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(strictUtf8.decode(Buffer.from(part, 'base64url')));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Echo an algorithm name only when it is short and plain, so a crafted header cannot inject text into logs. */
function describeAlg(alg: unknown): string {
  if (typeof alg !== 'string') return '(missing)';
  return /^[A-Za-z0-9_+-]{1,16}$/.test(alg) ? `"${alg}"` : '(unrecognised)';
}

function failureFor(error: unknown): Failure {
  if (error instanceof KeysUnavailableError) return fail('token-keys-unavailable', error.message);
  if (error instanceof errors.JWTExpired) return fail('token-expired', 'token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) return claimFailure(error.claim, error.reason);
  if (error instanceof errors.JWSSignatureVerificationFailed) return fail('token-bad-signature', 'token signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey) return fail('token-unknown-key', 'no trusted key matches the token key id (kid) and algorithm');
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return fail('token-unknown-key', 'several trusted keys match the token; it must name its key id (kid)');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return fail('token-algorithm-not-allowed', 'token algorithm is not allowed');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return fail('token-malformed', 'token is not a valid JWS/JWT');
  return fail('token-invalid', 'token could not be verified');
}

function claimFailure(claim: string, reason: string): Failure {
  switch (claim) {
    case 'iss':
      return fail('token-wrong-issuer', 'token issuer is not trusted');
    case 'aud':
      return fail('token-wrong-audience', reason === 'missing' ? 'token has no audience' : 'token audience does not include this service');
    case 'nbf':
      return reason === 'check_failed'
        ? fail('token-not-yet-valid', 'token is not valid yet (nbf)')
        : fail('token-invalid', 'token nbf claim is not a number');
    case 'exp':
      return reason === 'missing' ? fail('token-invalid', 'token has no expiry (exp)') : fail('token-invalid', 'token exp claim is not a number');
    case 'sub':
      return fail('token-invalid', 'token has no subject (sub)');
    default:
      // jose only names registered claims here (iat, typ …), never attacker-chosen text.
      return fail('token-invalid', `token ${claim} claim is invalid`);
  }
}
