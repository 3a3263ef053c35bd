import type { KeySource } from './key-source.ts';
import { LocalJwksFileKeySource, type LocalJwksFileOptions } from './local-jwks-file-key-source.ts';
import { OidcDiscoveryKeySource, type OidcDiscoveryOptions } from './oidc-discovery-key-source.ts';
import { RemoteJwksKeySource } from './remote-jwks-key-source.ts';

/** How an external issuer's keys are found; at most one of `jwksUrl` and `jwksFile`. */
export interface IssuerKeysConfig {
  issuer: string;
  /** A JWKS endpoint. */
  jwksUrl?: string;
  /** A JWKS file on this machine, re-read when it changes. */
  jwksFile?: string;
  remote?: OidcDiscoveryOptions;
  file?: LocalJwksFileOptions;
}

/** Picks the key source for an issuer: the named file or URL, else OIDC discovery on the issuer URL. */
export function keySourceForIssuer(config: IssuerKeysConfig): KeySource {
  if (config.jwksUrl !== undefined && config.jwksFile !== undefined) {
    throw new TypeError(`identity: issuer ${config.issuer} sets both jwksUrl and jwksFile; choose one`);
  }
  if (config.jwksFile !== undefined) return new LocalJwksFileKeySource(config.jwksFile, config.file);
  if (config.jwksUrl !== undefined) return new RemoteJwksKeySource(config.jwksUrl, config.remote);
  return new OidcDiscoveryKeySource(config.issuer, config.remote);
}
