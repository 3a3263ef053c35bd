import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, type JSONWebKeySet, type JWK } from 'jose';
import type { KeyTrust } from './audit-verifier.ts';
import type { VerificationProblem } from './verification-problem.ts';

/** The public keys that verify digests are missing or unreadable. */
export class AuditKeysMissingError extends Error {
  override readonly name = 'AuditKeysMissingError';
}

export interface KeyTrustChoice {
  /** A JWKS given out of band (`--jwks`, PORTCULLIS_AUDIT_TRUSTED_JWKS_FILE). */
  readonly jwksFile?: string;
  /** RFC 7638 thumbprints the trusted keys must have (`--key-thumbprint`, PORTCULLIS_AUDIT_TRUSTED_KEY_THUMBPRINT). */
  readonly thumbprints: readonly string[];
  /** The JWKS the producer wrote beside its records: used when no file is given. */
  readonly folderJwksFile: string;
}

export interface TrustedKeys {
  readonly jwks: JSONWebKeySet;
  readonly trust: KeyTrust;
  /** Set when a pin matches no key: nothing can verify, and the report says why. */
  readonly problems: readonly VerificationProblem[];
}

/**
 * Which keys an audit verification trusts. A JWKS read from the same folder as the records proves
 * only that they were signed by whoever wrote that folder, so the keys can be pinned out of band:
 * a JWKS file (every key in it is trusted, so keys of earlier runs verify after a rotation), or
 * thumbprints that the keys must have (keys are identified by their computed thumbprint, never by
 * the `kid` they claim). Each key's `kid` is set to its thumbprint, as producers sign with it.
 */
export async function resolveTrustedKeys(choice: KeyTrustChoice): Promise<TrustedKeys> {
  const path = choice.jwksFile ?? choice.folderJwksFile;
  const keys = await keysWithThumbprints(readJwks(path));
  const pinned = choice.thumbprints.length > 0;
  const trusted = pinned ? keys.filter(({ thumbprint }) => choice.thumbprints.includes(thumbprint)) : keys;
  const source: KeyTrust['source'] = choice.jwksFile ? 'jwks-file' : pinned ? 'thumbprint-pin' : 'audit-folder';
  const trust: KeyTrust = {
    source,
    path,
    thumbprints: trusted.map(({ thumbprint }) => thumbprint),
    ...(source === 'audit-folder'
      ? { warning: `WARNING: the signing keys were read from ${path}, beside the records: whoever can rewrite the records can replace them, so this proves integrity but not authenticity. Pin the key with --jwks FILE or --key-thumbprint (PORTCULLIS_AUDIT_TRUSTED_KEY_THUMBPRINT).` }
      : {}),
  };
  const problems: VerificationProblem[] = pinned && trusted.length === 0
    ? [{ kind: 'untrusted-key', message: `no key in ${path} has the pinned thumbprint(s) ${choice.thumbprints.join(', ')} (it holds ${keys.map(({ thumbprint }) => thumbprint).join(', ') || 'no key'}): the keys were replaced` }]
    : [];
  return { jwks: { keys: trusted.map(({ jwk, thumbprint }) => ({ ...jwk, kid: thumbprint })) }, trust, problems };
}

function readJwks(path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new AuditKeysMissingError(`cannot read the audit signing public keys at ${path} (${(error as Error).message}); pass --jwks`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new AuditKeysMissingError(`${path} is not a JWKS (no "keys" list)`);
  return { keys: keys as JWK[] };
}

async function keysWithThumbprints(jwks: JSONWebKeySet): Promise<{ jwk: JWK; thumbprint: string }[]> {
  const result: { jwk: JWK; thumbprint: string }[] = [];
  for (const jwk of jwks.keys) {
    // Public members only: a private `d` in a JWKS is never needed to verify.
    const { d: _private, ...publicJwk } = jwk;
    try {
      result.push({ jwk: publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk) });
    } catch {
      // A key that has no thumbprint (malformed) is no key to trust.
    }
  }
  return result;
}
