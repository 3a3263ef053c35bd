// Bundles signed as a bundle publisher signs them (`opa build -t wasm --signing-key`), for the
// suites that check the PDP's signature rule: a fresh ES256 key pair, and a Rego folder built
// into a bundle file with it (or unsigned).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedOpa } from './pdp-harness.ts';

export interface SigningKeyFiles {
  readonly privateKeyFile: string;
  /** What PORTCULLIS_BUNDLE_VERIFICATION_KEY names. */
  readonly publicKeyFile: string;
}

/** An ES256 (P-256) key pair written to `folder` as `<name>-private.pem` and `<name>-public.pem`. */
export function writeSigningKeyPair(folder: string, name = 'bundle-signing'): SigningKeyFiles {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyFile = join(folder, `${name}-private.pem`);
  const publicKeyFile = join(folder, `${name}-public.pem`);
  writeFileSync(privateKeyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKeyFile, publicKeyFile };
}

/**
 * Builds the Rego folder `source` (policy files under it, as the starter pack's `portcullis/`)
 * into `output` with entrypoint portcullis/decision and the given revision, signed with
 * `privateKeyFile` (ES256) unless it is undefined; returns the archive's bytes.
 */
export function buildBundleFile(source: string, output: string, revision: string, privateKeyFile: string | undefined): Buffer {
  const signing = privateKeyFile === undefined ? [] : ['--signing-key', privateKeyFile, '--signing-alg', 'ES256'];
  execFileSync(installedOpa(), ['build', '-t', 'wasm', '-O=1', '-e', 'portcullis/decision', '-r', revision, '--bundle', ...signing, '-o', output, '.'], { cwd: source });
  return readFileSync(output);
}
