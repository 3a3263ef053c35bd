import { readFileSync } from 'node:fs';
import type { PdpConfig } from '../config/pdp-config.ts';
import { createBundleVerifier, type BundleVerifier } from './bundle-signature-verifier.ts';

/** The signature rule a PDP's configuration sets for every bundle it serves, and where its key is. */
export interface ConfiguredBundleVerifier {
  readonly verifier: BundleVerifier;
  /** For messages and reports: the setting and the key file. */
  readonly description: string;
}

/**
 * The verifier the PDP holds its live and shadow bundles to, built from PORTCULLIS_BUNDLE_VERIFICATION_KEY;
 * undefined when no signature is required. What checks a bundle before it serves (policy impact)
 * takes it from here, so it applies the same rule with the same key.
 */
export function configuredBundleVerifier(config: PdpConfig): ConfiguredBundleVerifier | undefined {
  const file = config.policy.verificationKeyFile;
  if (!file) return undefined;
  return { verifier: createBundleVerifier({ publicKeyPem: readFileSync(file, 'utf8') }), description: `PORTCULLIS_BUNDLE_VERIFICATION_KEY (${file})` };
}
