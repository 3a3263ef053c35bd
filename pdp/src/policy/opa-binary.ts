import { execFile } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The OPA release a Rego folder is compiled with; scripts/components.sh installs the same one (a test keeps them equal). */
export const OPA_VERSION = 'v1.22.3';

export interface OpaBinaryOptions {
  /** PORTCULLIS_OPA_PATH: used as given, nothing is looked up or built. */
  readonly configured?: string;
  /** The cache folder; the binary lives at tools/bin/opa-<version>, where scripts/components.sh puts it. */
  readonly cacheDir: string;
  readonly log: (message: string) => void;
}

const run = promisify(execFile);

/** Where the cached opa binary of this release lives. */
export function cachedOpaPath(cacheDir: string): string {
  return join(cacheDir, 'tools', 'bin', `opa-${OPA_VERSION}`);
}

/**
 * The opa binary that compiles a Rego folder. Only a PDP serving a Rego folder asks for it (a
 * bundle file or URL needs no OPA toolchain). When neither the configured path nor the cache
 * holds one, it is built once with `go install` into the cache, and the log says so: that takes
 * minutes and needs Go.
 */
export async function opaBinary(options: OpaBinaryOptions): Promise<string> {
  if (options.configured) return options.configured;
  const cached = cachedOpaPath(options.cacheDir);
  if (await isExecutable(cached)) return cached;
  options.log(`policy: serving a Rego folder needs opa ${OPA_VERSION}, which is not in ${cached}: building it with 'go install' (first use only, a few minutes; set PORTCULLIS_OPA_PATH to use an installed opa)`);
  const started = Date.now();
  try {
    await run('go', ['version']);
  } catch {
    throw new Error(`cannot build opa: go is not installed (https://go.dev); or set PORTCULLIS_OPA_PATH to an opa ${OPA_VERSION} binary`);
  }
  const goFolder = join(options.cacheDir, 'go');
  await mkdir(join(options.cacheDir, 'tools', 'bin'), { recursive: true });
  await mkdir(goFolder, { recursive: true });
  // A private bin folder per build: two PDPs building at once each move a complete binary in place.
  const gobin = await mkdtemp(join(goFolder, 'bin.'));
  try {
    await run('go', ['install', `github.com/open-policy-agent/opa@${OPA_VERSION}`], {
      env: {
        ...process.env,
        GOBIN: gobin,
        GOMODCACHE: process.env.GOMODCACHE ?? join(goFolder, 'mod'),
        GOCACHE: process.env.GOCACHE ?? join(goFolder, 'build'),
        GOFLAGS: '-mod=mod',
      },
      maxBuffer: 16 * 1024 * 1024,
    });
    await rename(join(gobin, 'opa'), cached);
  } catch (error) {
    throw new Error(`building opa ${OPA_VERSION} with go install failed: ${(error as Error).message.trim()}`);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
  options.log(`policy: built opa ${OPA_VERSION} at ${cached} in ${Math.round((Date.now() - started) / 1000)} s`);
  return cached;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
