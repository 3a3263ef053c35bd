#!/usr/bin/env node
// Builds the policy pack (rego/ + data/) into build/bundle.tar.gz with a WASM entrypoint
// portcullis/decision. Plain Node, no dependencies: `node build.mjs` (or `npm run build`).
// Also imported by test/opa.test.ts for the paths, the opa lookup and the bundle reader.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export const policiesDir = path.dirname(fileURLToPath(import.meta.url));
export const regoDir = path.join(policiesDir, 'rego');
export const dataDir = path.join(policiesDir, 'data');
export const testsDir = path.join(policiesDir, 'tests');
export const buildDir = path.join(policiesDir, 'build');
export const bundlePath = path.join(buildDir, 'bundle.tar.gz');
export const entrypoint = 'portcullis/decision';

const componentsScript = path.resolve(policiesDir, '..', 'scripts', 'components.sh');

// Built-ins the WASM target cannot run without host-supplied implementations (FIELD-NOTES).
const hostOnlyBuiltins = [/^time\./, /^crypto\./, /^io\.jwt\./, /^http\.send$/, /^regex\.replace$/, /^units\./, /^uuid\./, /^semver\./];

export class PolicyBuildError extends Error {}

/** The opa binary, as scripts/components.sh knows it (it installs opa on first use). */
export function opaPath() {
  const run = spawnSync('bash', [componentsScript, 'path', 'opa'], { encoding: 'utf8' });
  const found = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !found || !fs.existsSync(found)) {
    throw new PolicyBuildError(
      `cannot find opa: 'bash ${componentsScript} path opa' exited ${run.status}\n${run.stderr.trim()}`,
    );
  }
  return found;
}

/** Runs opa with arguments; returns { status, stdout, stderr }. */
export function runOpa(opa, args) {
  const run = spawnSync(opa, args, { cwd: policiesDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new PolicyBuildError(`cannot run ${opa}: ${run.error.message}`);
  return { status: run.status ?? 1, stdout: run.stdout, stderr: run.stderr };
}

// The built-in list the WASM SDK ships (what policy.wasm plus @open-policy-agent/opa-wasm can run),
// or null when the SDK is not installed.
function sdkBuiltinNames() {
  try {
    const require = createRequire(import.meta.url);
    let dir = path.dirname(require.resolve('@open-policy-agent/opa-wasm'));
    while (!fs.existsSync(path.join(dir, 'capabilities.json')) && dir !== path.dirname(dir)) dir = path.dirname(dir);
    const capabilities = JSON.parse(fs.readFileSync(path.join(dir, 'capabilities.json'), 'utf8'));
    return new Set(capabilities.builtins.map((b) => b.name));
  } catch {
    return null;
  }
}

// Capabilities limited to what the WASM SDK can evaluate, so a rule that needs anything else
// fails here, at build time, instead of at the first decision in the PDP.
function writeWasmCapabilities(opa) {
  const current = runOpa(opa, ['capabilities', '--current']);
  if (current.status !== 0) throw new PolicyBuildError(`opa capabilities failed:\n${current.stderr}`);
  const capabilities = JSON.parse(current.stdout);
  const sdk = sdkBuiltinNames();
  capabilities.builtins = capabilities.builtins.filter(
    (b) => !hostOnlyBuiltins.some((re) => re.test(b.name)) && (sdk === null || sdk.has(b.name)),
  );
  const file = path.join(buildDir, 'wasm-capabilities.json');
  fs.writeFileSync(file, JSON.stringify(capabilities));
  return file;
}

/** Reads a .tar.gz into a Map of member name (as stored, e.g. "/policy.wasm") → contents. */
export function readBundle(file) {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  const entries = new Map();
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, length) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const name = field(345, 155) ? `${field(345, 155)}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (type === '0' || type === '') entries.set(name, tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** Builds the bundle; returns { bundlePath, wasmBytes, modules, millis }. Throws PolicyBuildError. */
export function build() {
  const started = Date.now();
  const opa = opaPath();
  fs.mkdirSync(buildDir, { recursive: true });
  const capabilities = writeWasmCapabilities(opa);
  const partial = `${bundlePath}.partial`;
  const run = runOpa(opa, [
    'build', '-t', 'wasm', '-O=1', '-e', entrypoint,
    '--capabilities', capabilities,
    '-o', partial,
    regoDir, dataDir,
  ]);
  if (run.status !== 0) {
    fs.rmSync(partial, { force: true });
    throw new PolicyBuildError(`opa build failed (compile error?):\n${(run.stderr || run.stdout).trim()}`);
  }
  const entries = readBundle(partial);
  for (const required of ['/policy.wasm', '/data.json']) {
    if (!entries.has(required)) {
      fs.rmSync(partial, { force: true });
      throw new PolicyBuildError(`opa build produced a bundle without ${required}`);
    }
  }
  // Only a complete, verified bundle replaces the previous one.
  fs.renameSync(partial, bundlePath);
  return {
    bundlePath,
    wasmBytes: entries.get('/policy.wasm')?.length ?? 0,
    modules: [...entries.keys()].filter((n) => n.endsWith('.rego')).length,
    millis: Date.now() - started,
  };
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    const result = build();
    console.log(
      `[policies] built ${path.relative(process.cwd(), result.bundlePath) || result.bundlePath}: ` +
        `${result.modules} modules, policy.wasm ${Math.round(result.wasmBytes / 1024)} KiB, ` +
        `entrypoint ${entrypoint}, ${result.millis} ms`,
    );
  } catch (error) {
    console.error(`[policies] build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
