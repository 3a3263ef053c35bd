import type { PolicySourceConfig } from '../config/pdp-config.ts';

/**
 * The `portcullis policy impact` command that replays the recorded decisions since the shadow
 * started against the same candidate: the full report (every change, by rule, principal and
 * resource) the console's live differences are a sample of. A candidate served by a bundle
 * server has no local path: the command names a file to download it to.
 */
export function impactCommand(source: PolicySourceConfig, since: string | null): string {
  const bundle = source.kind === 'rego-folder' ? source.folder : source.kind === 'bundle-file' ? source.path : 'candidate.tar.gz';
  const period = since === null ? '' : ` --from ${since}`;
  return `portcullis policy impact --bundle ${shellWord(bundle)}${period} --format html --out impact.html`;
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
