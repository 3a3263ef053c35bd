import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { envReader } from '@portcullis/contract/config-values';

/**
 * Where state and cache live when nothing is configured: the XDG base directories (relative
 * values are ignored, as the specification says), never the folder the package is installed
 * in, so an installed PDP and its CLI find the same state wherever they run from.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  return join(xdgBase(env, 'XDG_STATE_HOME', '.local/state'), 'portcullis');
}

/** Downloads and builds (the opa binary) are kept here; PORTCULLIS_CACHE_DIR overrides it. */
export function cacheDir(env: NodeJS.ProcessEnv): string {
  return envReader(env)('PORTCULLIS_CACHE_DIR') ?? join(xdgBase(env, 'XDG_CACHE_HOME', '.cache'), 'portcullis');
}

function xdgBase(env: NodeJS.ProcessEnv, variable: string, underHome: string): string {
  const configured = envReader(env)(variable);
  return configured !== undefined && isAbsolute(configured) ? configured : join(homedir(), underHome);
}
