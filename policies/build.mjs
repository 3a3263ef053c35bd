#!/usr/bin/env node
// The policy pack's build, in plain Node with no dependencies.
//
//   node build.mjs          build build/bundle.tar.gz (WASM, entrypoint portcullis/decision)
//   node build.mjs test     opa test the pack and its tests/ suite, verbosely
//   node build.mjs check    opa check --strict the pack and its tests
//
// The pack is loaded the way OPA loads a bundle directory: policies/ is the root, so
// portcullis/data.json lands at data.portcullis, and only data.json files count as data.
// test/opa.test.ts imports the paths, the opa lookup and the bundle reader from here.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export const policiesDir = path.dirname(fileURLToPath(import.meta.url));
export const packDir = path.join(policiesDir, 'portcullis');
export const testsDir = path.join(policiesDir, 'tests');
export const buildDir = path.join(policiesDir, 'build');
export const bundlePath = path.join(buildDir, 'bundle.tar.gz');
export const entrypoint = 'portcullis/decision';

const componentsScript = path.resolve(policiesDir, '..', 'scripts', 'components.sh');

// Not policy: build output, the Node test and any workspace-local packages.
const notPolicy = ['build', 'test', 'node_modules'];
// Rego tests and their fixtures stay out of the served bundle.
const testsOnly = ['tests', '*_test.rego'];

/**
 * opa arguments that load the pack (and, with tests, the tests/ suite) from policiesDir. They
 * end in "--bundle .", which opa test/check/build read as a flag and a path and opa eval as
 * "--bundle <path>", so the same list serves every subcommand.
 */
export function loadArgs({ tests }) {
  const ignored = tests ? notPolicy : [...notPolicy, ...testsOnly];
  return [...ignored.flatMap((name) => ['--ignore', name]), '--bundle', '.'];
}

// Built-ins the WASM target cannot run without host-supplied implementations (FIELD-NOTES).
const hostOnlyBuiltins = [/^time\./, /^crypto\./, /^io\.jwt\./, /^http\.send$/, /^regex\.replace$/, /^units\./, /^uuid\./, /^semver\./];

export class PolicyBuildError extends Error {}

/** The opa binary, as scripts/components.sh knows it (it installs opa on first use). */
export function opaPath() {
  const run = spawnSync('bash', [componentsScript, 'path', 'opa'], { encoding: 'utf8' });
  const found = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !found || !fs.existsSync(found)) {
    throw new PolicyBuildError(`cannot find opa: 'bash ${componentsScript} path opa' exited ${run.status}\n${run.stderr.trim()}`);
  }
  return found;
}

/** Runs opa from policiesDir; returns { status, stdout, stderr }. */
export function runOpa(opa, args, options = {}) {
  const run = spawnSync(opa, args, { cwd: policiesDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
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
// fails here, at build time, instead of at the first decision in the PDP. A hidden name keeps
// the file out of anything that loads policies/ as policy (the PDP's folder source).
function writeWasmCapabilities(opa) {
  const current = runOpa(opa, ['capabilities', '--current']);
  if (current.status !== 0) throw new PolicyBuildError(`opa capabilities failed:\n${current.stderr}`);
  const capabilities = JSON.parse(current.stdout);
  const sdk = sdkBuiltinNames();
  capabilities.builtins = capabilities.builtins.filter(
    (b) => !hostOnlyBuiltins.some((re) => re.test(b.name)) && (sdk === null || sdk.has(b.name)),
  );
  // Per process: tests and the PDP harness may build at the same time.
  const file = path.join(buildDir, `.wasm-capabilities.${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(capabilities));
  return file;
}

/** A content hash of the pack's sources and data: the bundle revision the PDP can report. */
export function packRevision() {
  const hash = createHash('sha256');
  const files = fs
    .readdirSync(packDir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(rego|json)$/.test(name) && !name.endsWith('_test.rego'))
    .sort();
  for (const name of files) hash.update(`${name}\0`).update(fs.readFileSync(path.join(packDir, name))).update('\0');
  return `sha256-${hash.digest('hex').slice(0, 16)}`;
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

/** Builds the bundle; returns { bundlePath, revision, wasmBytes, modules, millis }. Throws PolicyBuildError. */
export function build() {
  const started = Date.now();
  const opa = opaPath();
  fs.mkdirSync(buildDir, { recursive: true });
  const capabilities = writeWasmCapabilities(opa);
  const revision = packRevision();
  const partial = `${bundlePath}.${process.pid}.partial`;
  let run;
  try {
    run = runOpa(opa, [
      'build', '--target', 'wasm', '-O=1', '--entrypoint', entrypoint,
      '--capabilities', capabilities, '--revision', revision, '--output', partial,
      ...loadArgs({ tests: false }),
    ]);
  } finally {
    fs.rmSync(capabilities, { force: true });
  }
  if (run.status !== 0) {
    fs.rmSync(partial, { force: true });
    throw new PolicyBuildError(`opa build rejected the policy pack:\n${(run.stderr || run.stdout).trim()}`);
  }
  const entries = readBundle(partial);
  for (const required of ['/policy.wasm', '/data.json']) {
    if (!entries.has(required)) {
      fs.rmSync(partial, { force: true });
      throw new PolicyBuildError(`opa build produced a bundle without ${required}`);
    }
  }
  // Only a complete, verified bundle replaces the previous one, atomically: a reader sees the
  // old bundle or the new one, never half of either.
  fs.renameSync(partial, bundlePath);
  return {
    bundlePath,
    revision,
    wasmBytes: entries.get('/policy.wasm')?.length ?? 0,
    modules: [...entries.keys()].filter((n) => n.endsWith('.rego')).length,
    millis: Date.now() - started,
  };
}

function main(command) {
  if (command === 'test' || command === 'check') {
    // opa test stops a test after 5 s by default; a loaded machine must not fail a passing test.
    const args = command === 'test' ? ['test', '--verbose', '--timeout=300s'] : ['check', '--strict'];
    const run = runOpa(opaPath(), [...args, ...loadArgs({ tests: true })], { stdio: 'inherit' });
    if (command === 'check' && run.status === 0) console.log('[policies] opa check --strict: no errors');
    return run.status;
  }
  if (command !== undefined) {
    console.error(`usage: node build.mjs [test|check]`);
    return 2;
  }
  const result = build();
  console.log(
    `[policies] built ${path.relative(process.cwd(), result.bundlePath) || result.bundlePath}: ` +
      `${result.modules} modules, policy.wasm ${Math.round(result.wasmBytes / 1024)} KiB, ` +
      `entrypoint ${entrypoint}, revision ${result.revision}, ${result.millis} ms`,
  );
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    process.exitCode = main(process.argv[2]);
  } catch (error) {
    console.error(`[policies] build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
