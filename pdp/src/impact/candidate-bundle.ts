import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DECISION_ENTRYPOINT } from '../decisions/decision-service.ts';
import { RegoFolderBundleSource } from '../policy/bundle-sources/rego-folder-bundle-source.ts';
import { parsePolicyBundle, type PolicyBundle } from '../policy/policy-bundle.ts';

export interface CandidateBundle {
  readonly bundle: PolicyBundle;
  /** What it was built or read from, for the report. */
  readonly description: string;
}

export interface CandidateBundleOptions {
  /** A Rego folder (built with `opa build`, as the PDP builds one it serves) or a bundle file. */
  readonly path: string;
  /** The opa binary; asked for only when the path is a folder (building it may take minutes). */
  readonly opaPath: () => Promise<string>;
}

/** The candidate could not be read or built: nothing was evaluated. */
export class CandidateBundleError extends Error {
  override name = 'CandidateBundleError';
}

/**
 * The candidate policy as the PDP would serve it: a folder is compiled by the same source that
 * compiles a served Rego folder (same entrypoint, ignore rules and revision scheme), a file is
 * read as the bundle it is.
 */
export async function loadCandidateBundle(options: CandidateBundleOptions): Promise<CandidateBundle> {
  const path = resolve(options.path);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new CandidateBundleError(`candidate ${path}: ${error.code === 'ENOENT' ? 'no such file or folder' : error.message}`);
  });
  if (info.isDirectory()) return { bundle: await buildFolder(path, await options.opaPath()), description: `rego folder ${path}` };
  const archive = await readFile(path).catch((error: Error) => {
    throw new CandidateBundleError(`candidate ${path}: ${error.message}`);
  });
  return { bundle: parsed(archive, `bundle file ${path}`), description: `bundle file ${path}` };
}

async function buildFolder(folder: string, opaPath: string): Promise<PolicyBundle> {
  const workDir = await mkdtemp(join(tmpdir(), 'portcullis-impact-'));
  const source = new RegoFolderBundleSource({ folder, opaPath, entrypoints: [DECISION_ENTRYPOINT], workDir });
  let bundle: PolicyBundle | undefined;
  try {
    await source.start(
      async (archive) => {
        bundle = parsed(archive, `rego folder ${folder}`);
      },
      () => {},
    );
  } catch (error) {
    throw error instanceof CandidateBundleError ? error : new CandidateBundleError((error as Error).message);
  } finally {
    await source.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  if (!bundle) throw new CandidateBundleError(`rego folder ${folder}: the build delivered no bundle`);
  return bundle;
}

function parsed(archive: Buffer, where: string): PolicyBundle {
  let bundle: PolicyBundle;
  try {
    bundle = parsePolicyBundle(archive);
  } catch (error) {
    throw new CandidateBundleError(`${where}: ${(error as Error).message}`);
  }
  // Without the entrypoint every decision would turn into a policy-error deny: that is no candidate.
  const entrypoints = bundle.manifest.wasm?.map((module) => module.entrypoint) ?? [];
  if (!entrypoints.includes(DECISION_ENTRYPOINT)) throw new CandidateBundleError(`${where}: the bundle has no ${DECISION_ENTRYPOINT} entrypoint (it has ${entrypoints.join(', ') || 'none'})`);
  return bundle;
}
