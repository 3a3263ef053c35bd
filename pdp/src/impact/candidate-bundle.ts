import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DECISION_ENTRYPOINT } from '../decisions/decision-service.ts';
import { RegoFolderBundleSource } from '../policy/bundle-sources/rego-folder-bundle-source.ts';
import type { ConfiguredBundleVerifier } from '../policy/configured-bundle-verifier.ts';
import { parsePolicyBundle, type PolicyBundle } from '../policy/policy-bundle.ts';

export interface CandidateBundle {
  readonly bundle: PolicyBundle;
  /** What it was built or read from, for the report. */
  readonly description: string;
  /** How its signature was checked, for the report: verified, not required, or not verified and analysed anyway. */
  readonly signature: string;
}

export interface CandidateBundleOptions {
  /** A Rego folder (built with `opa build`, as the PDP builds one it serves) or a bundle file. */
  readonly path: string;
  /** The opa binary; asked for only when the path is a folder (building it may take minutes). */
  readonly opaPath: () => Promise<string>;
  /** The PDP's signature rule (configuredBundleVerifier); undefined: it serves unsigned bundles. */
  readonly signatures: ConfiguredBundleVerifier | undefined;
  /** Analyse a candidate that fails the PDP's signature rule anyway (`--unsigned-candidate`); the report says so. */
  readonly unsignedCandidate: boolean;
}

/** The candidate could not be read or built: nothing was evaluated. */
export class CandidateBundleError extends Error {
  override name = 'CandidateBundleError';
}

/** The candidate is not signed as the PDP requires of what it serves: nothing was evaluated. */
export class CandidateSignatureError extends CandidateBundleError {
  override name = 'CandidateSignatureError';
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
  if (info.isDirectory()) {
    const description = `rego folder ${path}`;
    // A folder is built unsigned: refused before a build that may take minutes.
    const signature = await signatureOf(undefined, description, options);
    return { bundle: await buildFolder(path, await options.opaPath()), description, signature };
  }
  const archive = await readFile(path).catch((error: Error) => {
    throw new CandidateBundleError(`candidate ${path}: ${error.message}`);
  });
  const description = `bundle file ${path}`;
  const bundle = parsed(archive, description);
  return { bundle, description, signature: await signatureOf(bundle, description, options) };
}

/**
 * Holds the candidate to the rule the PDP holds what it serves to (the same verifier and key):
 * a candidate the PDP would refuse is refused, unless `--unsigned-candidate` asks for it anyway.
 */
async function signatureOf(bundle: PolicyBundle | undefined, description: string, options: CandidateBundleOptions): Promise<string> {
  const rule = options.signatures;
  if (!rule) return 'not checked: this PDP serves unsigned bundles (PORTCULLIS_BUNDLE_VERIFICATION_KEY is not set)';
  let problem: string;
  try {
    if (!bundle) throw new Error('a Rego folder is built unsigned');
    await rule.verifier.verify(bundle.files);
    return `verified with ${rule.description}, as the PDP verifies what it serves`;
  } catch (error) {
    problem = (error as Error).message;
  }
  if (options.unsignedCandidate) return `NOT verified (${problem}); analysed anyway by --unsigned-candidate: the PDP would refuse to serve it`;
  throw new CandidateSignatureError(
    `candidate ${description} fails the signature check this PDP applies to every bundle it serves (${rule.description}): ${problem}. Give a bundle signed with its key (opa build --signing-key), or pass --unsigned-candidate to analyse it anyway`,
  );
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
