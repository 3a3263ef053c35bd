import { createHash } from 'node:crypto';
import { readTarGz, type ArchiveFile } from './tar-gz-reader.ts';

/** A compiled policy bundle as OPA's `opa build -t wasm` writes it. */
export interface PolicyBundle {
  /** The manifest revision, or a content hash when the bundle has none. */
  readonly revision: string;
  readonly wasm: Uint8Array;
  /** Every data.json of the bundle merged at its folder's path. */
  readonly data: Record<string, unknown>;
  readonly manifest: BundleManifest;
  readonly files: readonly ArchiveFile[];
  readonly sizeBytes: number;
}

export interface BundleManifest {
  readonly revision?: string;
  readonly roots?: string[];
  readonly wasm?: Array<{ entrypoint: string; module: string }>;
  readonly [key: string]: unknown;
}

const MAX_UNCOMPRESSED = 256 * 1024 * 1024;

export function parsePolicyBundle(archive: Buffer): PolicyBundle {
  let files: ArchiveFile[];
  try {
    files = readTarGz(archive, MAX_UNCOMPRESSED);
  } catch (error) {
    throw new Error(`bundle is not a readable tar.gz: ${(error as Error).message}`);
  }
  const wasmFiles = files.filter((file) => file.path.endsWith('.wasm'));
  if (wasmFiles.length !== 1) {
    throw new Error(`bundle must hold exactly one policy.wasm (found ${wasmFiles.length}); build it with 'opa build -t wasm'`);
  }
  const manifestFile = files.find((file) => file.path === '/.manifest');
  const manifest = manifestFile ? (parseJson(manifestFile, '.manifest') as BundleManifest) : {};
  const data: Record<string, unknown> = {};
  for (const file of files) {
    if (!file.path.endsWith('/data.json')) continue;
    const value = parseJson(file, file.path);
    const segments = file.path.split('/').slice(1, -1);
    mergeAt(data, segments, value, file.path);
  }
  const revision =
    typeof manifest.revision === 'string' && manifest.revision !== ''
      ? manifest.revision
      : `sha256:${createHash('sha256').update(archive).digest('hex').slice(0, 16)}`;
  return { revision, wasm: wasmFiles[0]!.bytes, data, manifest, files, sizeBytes: archive.length };
}

function parseJson(file: ArchiveFile, label: string): unknown {
  try {
    return JSON.parse(file.bytes.toString('utf8'));
  } catch (error) {
    throw new Error(`bundle file ${label} is not valid JSON: ${(error as Error).message}`);
  }
}

function mergeAt(target: Record<string, unknown>, segments: string[], value: unknown, label: string): void {
  if (segments.length === 0) {
    if (!isObject(value)) throw new Error(`bundle file ${label} must hold a JSON object`);
    deepMerge(target, value, label);
    return;
  }
  let node = target;
  for (const segment of segments) {
    const next = node[segment];
    if (next === undefined) node[segment] = {};
    else if (!isObject(next)) throw new Error(`bundle data conflict at ${label}`);
    node = node[segment] as Record<string, unknown>;
  }
  if (!isObject(value)) throw new Error(`bundle file ${label} must hold a JSON object`);
  deepMerge(node, value, label);
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>, label: string): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (existing === undefined) target[key] = value;
    else if (isObject(existing) && isObject(value)) deepMerge(existing, value, label);
    else throw new Error(`bundle data conflict at ${label}: key ${key} defined twice`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
