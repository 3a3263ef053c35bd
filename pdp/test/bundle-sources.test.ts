import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { BundleFileSource } from '../src/policy/bundle-sources/bundle-file-source.ts';
import type { BundleSource } from '../src/policy/bundle-sources/bundle-source.ts';
import { HttpBundleSource } from '../src/policy/bundle-sources/http-bundle-source.ts';
import { RegoFolderBundleSource } from '../src/policy/bundle-sources/rego-folder-bundle-source.ts';
import { parsePolicyBundle } from '../src/policy/policy-bundle.ts';
import { eventually } from '../../test/support/eventually.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const OPA = execFileSync('bash', [join(REPO, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8' }).trim();
const ENTRYPOINT = 'portcullis/decision';

const temp = mkdtempSync(join(tmpdir(), 'portcullis-bundle-sources-'));
after(() => rmSync(temp, { recursive: true, force: true }));
let tempSeq = 0;
function tempDir(name: string): string {
  const dir = join(temp, `${name}-${++tempSeq}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function policy(version: string): string {
  return [
    'package portcullis',
    'import data.limits',
    `default decision := {"allow": false, "version": "${version}"}`,
    `decision := {"allow": true, "version": "${version}"} if input.x == limits.x`,
    '',
  ].join('\n');
}

/** A policy folder as an author keeps it: policy, data, and a test that must not be built. */
function policyFolder(version = 'v1'): string {
  const dir = tempDir('policy');
  writeFileSync(join(dir, 'policy.rego'), policy(version));
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ limits: { x: 1 } }));
  // Calls a function that exists nowhere: the build fails if test files are not left out.
  writeFileSync(join(dir, 'policy_test.rego'), 'package portcullis_test\ntest_x if undefined_helper(1)\n');
  return dir;
}

function opaBuild(folder: string, revision: string): Buffer {
  const out = join(tempDir('out'), 'bundle.tar.gz');
  execFileSync(OPA, ['build', '-t', 'wasm', '-O=1', '-e', ENTRYPOINT, '--ignore', '*_test.rego', '-r', revision, '-o', out, '.'], { cwd: folder });
  return readFileSync(out);
}

async function evaluate(archive: Buffer, input: unknown): Promise<unknown> {
  const bundle = parsePolicyBundle(archive);
  const instance = await loadPolicy(bundle.wasm);
  instance.setData(bundle.data);
  const results = instance.evaluate(input, ENTRYPOINT) as Array<{ result: unknown }>;
  return results[0]?.result;
}

/** Collects what a source delivers and reports. */
class Recorder {
  readonly bundles: Buffer[] = [];
  readonly errors: Error[] = [];
  readonly onBundle = async (archive: Buffer): Promise<void> => {
    this.bundles.push(archive);
  };
  readonly onError = (error: Error): void => {
    this.errors.push(error);
  };

  get last(): Buffer {
    const archive = this.bundles.at(-1);
    assert.ok(archive, 'no bundle delivered');
    return archive;
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  await eventually(what, condition, { timeoutMs, intervalMs: 10 });
}

/** Stops every source a test started, even when the test fails. */
const running: BundleSource[] = [];
async function started<T extends BundleSource>(source: T, recorder: Recorder): Promise<T> {
  running.push(source);
  await source.start(recorder.onBundle, recorder.onError);
  return source;
}
after(async () => {
  await Promise.all(running.map((source) => source.stop()));
});

describe('RegoFolderBundleSource', () => {
  function folderSource(folder: string, extra: { opaPath?: string } = {}): RegoFolderBundleSource {
    return new RegoFolderBundleSource({ folder, opaPath: extra.opaPath ?? OPA, entrypoints: [ENTRYPOINT], workDir: tempDir('work'), debounceMs: 30 });
  }

  test('builds the folder on start: policy, data and entrypoint, with test files left out', async () => {
    const recorder = new Recorder();
    const source = await started(folderSource(policyFolder()), recorder);
    assert.equal(recorder.bundles.length, 1);
    const bundle = parsePolicyBundle(recorder.last);
    assert.match(bundle.revision, /^sha256:[0-9a-f]{16}$/);
    assert.deepEqual(bundle.data, { limits: { x: 1 } });
    assert.ok(!bundle.files.some((file) => file.path.endsWith('_test.rego')));
    assert.deepEqual(await evaluate(recorder.last, { x: 1 }), { allow: true, version: 'v1' });
    assert.deepEqual(recorder.errors, []);
    await source.stop();
  });

  test('rebuilds after a .rego edit and delivers the new revision', async () => {
    const folder = policyFolder();
    const recorder = new Recorder();
    const source = await started(folderSource(folder), recorder);
    const firstRevision = parsePolicyBundle(recorder.last).revision;

    writeFileSync(join(folder, 'policy.rego'), policy('v2'));
    await waitFor(() => recorder.bundles.length === 2, 'the rebuilt bundle');
    assert.notEqual(parsePolicyBundle(recorder.last).revision, firstRevision);
    assert.deepEqual(await evaluate(recorder.last, { x: 1 }), { allow: true, version: 'v2' });
    assert.deepEqual(recorder.errors, []);
    await source.stop();
  });

  test('follows editors that replace the file (write a temp file, rename it over), edit after edit', async () => {
    const folder = policyFolder();
    const recorder = new Recorder();
    const source = await started(folderSource(folder), recorder);
    for (const version of ['v2', 'v3', 'v4']) {
      const count = recorder.bundles.length;
      writeFileSync(join(folder, '.policy.rego.swp'), policy(version));
      renameSync(join(folder, '.policy.rego.swp'), join(folder, 'policy.rego'));
      await waitFor(() => recorder.bundles.length === count + 1, `the ${version} bundle`);
      assert.deepEqual(await evaluate(recorder.last, { x: 1 }), { allow: true, version });
    }
    await source.stop();
  });

  test('watches directories created after start', async () => {
    const folder = policyFolder();
    const recorder = new Recorder();
    const source = await started(folderSource(folder), recorder);
    mkdirSync(join(folder, 'teams', 'payments'), { recursive: true });
    writeFileSync(join(folder, 'teams', 'payments', 'data.json'), JSON.stringify({ owner: 'a' }));
    await waitFor(() => recorder.bundles.length === 2, 'the bundle with the new data');
    assert.deepEqual(parsePolicyBundle(recorder.last).data, { limits: { x: 1 }, teams: { payments: { owner: 'a' } } });

    writeFileSync(join(folder, 'teams', 'payments', 'data.json'), JSON.stringify({ owner: 'b' }));
    await waitFor(() => recorder.bundles.length === 3, 'the bundle with the edited nested data');
    assert.deepEqual(parsePolicyBundle(recorder.last).data, { limits: { x: 1 }, teams: { payments: { owner: 'b' } } });
    await source.stop();
  });

  test('reports a syntax error through onError with opa\'s message, delivers nothing, then recovers', async () => {
    const folder = policyFolder();
    const recorder = new Recorder();
    const source = await started(folderSource(folder), recorder);

    writeFileSync(join(folder, 'policy.rego'), 'package portcullis\ndecision := {"allow": \n');
    await waitFor(() => recorder.errors.length === 1, 'the build error');
    const message = recorder.errors[0]!.message;
    assert.match(message, /rego_parse_error/);
    assert.match(message, /policy\.rego/);
    assert.equal(message, message.trim());
    assert.equal(recorder.bundles.length, 1, 'the broken policy must not be delivered');

    writeFileSync(join(folder, 'policy.rego'), policy('fixed'));
    await waitFor(() => recorder.bundles.length === 2, 'the fixed bundle');
    assert.deepEqual(await evaluate(recorder.last, { x: 1 }), { allow: true, version: 'fixed' });
    assert.equal(recorder.errors.length, 1);
    await source.stop();
  });

  test('start rejects when the first build fails; a fix made afterwards is delivered', async () => {
    const folder = policyFolder();
    writeFileSync(join(folder, 'policy.rego'), 'package portcullis\ndecision := \n');
    const recorder = new Recorder();
    const source = folderSource(folder);
    running.push(source);
    await assert.rejects(source.start(recorder.onBundle, recorder.onError), /rego_parse_error/);
    assert.equal(recorder.bundles.length, 0);

    writeFileSync(join(folder, 'policy.rego'), policy('v1'));
    await waitFor(() => recorder.bundles.length === 1, 'the bundle after the fix');
    await source.stop();
  });

  test('never runs two builds at once: edits during a build become one more build', async () => {
    // A wrapper around opa that notices overlapping runs, and holds each build while the test
    // says so (the file "hold"), so the edits all land during one build however slow the machine.
    const dir = tempDir('wrapper');
    const wrapper = join(dir, 'opa');
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        `if [ -e "${dir}/lock" ]; then touch "${dir}/overlap"; fi`,
        `touch "${dir}/lock"`,
        `while [ -e "${dir}/hold" ]; do sleep 0.01; done`,
        `"${OPA}" "$@"; rc=$?`,
        // Counted before the lock goes, so a test that waits for the lock sees the count.
        `echo build >> "${dir}/count"`,
        `rm -f "${dir}/lock"`,
        'exit $rc',
        '',
      ].join('\n'),
    );
    chmodSync(wrapper, 0o755);
    const builds = (): number => (existsSync(join(dir, 'count')) ? readFileSync(join(dir, 'count'), 'utf8').trim().split('\n').length : 0);

    const folder = policyFolder();
    const recorder = new Recorder();
    const source = await started(folderSource(folder, { opaPath: wrapper }), recorder);
    assert.equal(builds(), 1);
    const checksAtStart = source.checks;
    // Edits spaced wider than the debounce (each one triggers) but all inside the first build.
    writeFileSync(join(dir, 'hold'), '');
    writeFileSync(join(folder, 'policy.rego'), policy('v2'));
    await waitFor(() => existsSync(join(dir, 'lock')), 'a build started by the first edit');
    for (let i = 3; i <= 8; i++) {
      writeFileSync(join(folder, 'policy.rego'), policy(`v${i}`));
      await sleep(40);
    }
    rmSync(join(dir, 'hold'));
    await waitFor(
      async () => recorder.bundles.length > 1 && isDeepStrictEqual(await evaluate(recorder.last, { x: 1 }), { allow: true, version: 'v8' }),
      'the bundle of the last edit',
    );
    // Build 2 read its fingerprint before the held edits, so one more build follows it: wait for
    // that one (a moment with no build running is not the end; the next may be a debounce away).
    await waitFor(() => builds() === 3 && source.checks >= checksAtStart + 2 && !existsSync(join(dir, 'lock')), 'the coalesced rebuild to finish');
    assert.ok(!existsSync(join(dir, 'overlap')), 'two builds ran at the same time');
    assert.ok(builds() <= 3, `expected the edits to coalesce into at most 2 rebuilds, got ${builds() - 1}`);

    // Events that change no content cost no build.
    const before = builds();
    const checked = source.checks;
    writeFileSync(join(folder, 'policy.rego'), policy('v8'));
    writeFileSync(join(folder, 'README.md'), 'not policy');
    await waitFor(() => source.checks > checked && !existsSync(join(dir, 'lock')), 'the source to look at the change');
    assert.equal(builds(), before);
    await source.stop();
  });
});

describe('BundleFileSource', () => {
  let bundleA: Buffer;
  let bundleB: Buffer;
  before(() => {
    const folder = policyFolder();
    bundleA = opaBuild(folder, 'rev-a');
    writeFileSync(join(folder, 'policy.rego'), policy('v2'));
    bundleB = opaBuild(folder, 'rev-b');
  });

  test('delivers the file at start and again when its content changes, not when it is only touched', async () => {
    const dir = tempDir('file');
    const path = join(dir, 'bundle.tar.gz');
    writeFileSync(path, bundleA);
    const recorder = new Recorder();
    const source = await started(new BundleFileSource({ path, pollIntervalMs: 20 }), recorder);
    assert.equal(recorder.bundles.length, 1);
    assert.equal(parsePolicyBundle(recorder.last).revision, 'rev-a');

    // Replaced atomically, as a deploy would.
    writeFileSync(join(dir, 'next.tmp'), bundleB);
    renameSync(join(dir, 'next.tmp'), path);
    await waitFor(() => recorder.bundles.length === 2, 'the changed bundle');
    assert.equal(parsePolicyBundle(recorder.last).revision, 'rev-b');

    // Same bytes, new mtime, rewritten in place: nothing to deliver.
    utimesSync(path, new Date(), new Date(Date.now() + 5_000));
    writeFileSync(path, bundleB);
    // Two polls that began after the write: at least one saw it whole.
    const polled = source.checks;
    await waitFor(() => source.checks >= polled + 2, 'two polls after the rewrite');
    assert.equal(recorder.bundles.length, 2);

    writeFileSync(path, bundleA);
    await waitFor(() => recorder.bundles.length === 3, 'the bundle written in place');
    assert.equal(parsePolicyBundle(recorder.last).revision, 'rev-a');
    assert.deepEqual(recorder.errors, []);
    await source.stop();
  });

  test('start rejects for a missing file, reports it once, and delivers the file once it appears', async () => {
    const path = join(tempDir('file'), 'bundle.tar.gz');
    const recorder = new Recorder();
    const source = new BundleFileSource({ path, pollIntervalMs: 20 });
    running.push(source);
    await assert.rejects(source.start(recorder.onBundle, recorder.onError), /file not found/);
    await waitFor(() => source.checks >= 3, 'three polls of the missing file');
    assert.equal(recorder.errors.length, 0, 'the failure the rejection reported is not repeated every poll');

    writeFileSync(path, bundleA);
    await waitFor(() => recorder.bundles.length === 1, 'the bundle');
    await source.stop();
  });
});

describe('HttpBundleSource', () => {
  let bundleA: Buffer;
  let bundleB: Buffer;
  before(() => {
    const folder = policyFolder();
    bundleA = opaBuild(folder, 'rev-a');
    writeFileSync(join(folder, 'policy.rego'), policy('v2'));
    bundleB = opaBuild(folder, 'rev-b');
  });

  /** A bundle server on 127.0.0.1 whose answers a test can change as it goes. */
  class BundleServer {
    readonly server: Server;
    readonly requests: IncomingHttpHeaders[] = [];
    bundle: Buffer = Buffer.alloc(0);
    etag = '"a"';
    failWith: number | undefined;
    chunked = false;
    hang = false;

    constructor() {
      this.server = createServer((req, res) => {
        this.requests.push(req.headers);
        if (this.hang) return; // never answers
        if (this.failWith !== undefined) {
          res.writeHead(this.failWith).end('internal details that must not matter');
          return;
        }
        if (req.headers['if-none-match'] === this.etag) {
          res.writeHead(304, { etag: this.etag }).end();
          return;
        }
        const headers: Record<string, string | number> = this.chunked ? {} : { 'content-length': this.bundle.length };
        if (this.etag !== '') headers.etag = this.etag;
        res.writeHead(200, headers);
        res.end(this.bundle);
      });
    }

    async listen(port = 0): Promise<void> {
      await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    }

    async close(): Promise<void> {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    get port(): number {
      return (this.server.address() as AddressInfo).port;
    }
  }

  const servers: BundleServer[] = [];
  async function bundleServer(): Promise<BundleServer> {
    const server = new BundleServer();
    server.bundle = bundleA;
    await server.listen();
    servers.push(server);
    return server;
  }
  after(async () => {
    await Promise.all(servers.filter((server) => server.server.listening).map((server) => server.close()));
  });

  function httpSource(url: string, extra: Partial<ConstructorParameters<typeof HttpBundleSource>[0]> = {}): HttpBundleSource {
    return new HttpBundleSource({ url, pollIntervalMs: 30, timeoutMs: 2_000, maxBytes: 10 * 1024 * 1024, retryMinMs: 20, retryMaxMs: 100, ...extra });
  }

  test('gets 200, then 304 for the ETag it sent in If-None-Match, then 200 again for a new bundle', async () => {
    const server = await bundleServer();
    const recorder = new Recorder();
    const source = await started(httpSource(`http://127.0.0.1:${server.port}/bundles/portcullis`), recorder);
    assert.equal(recorder.bundles.length, 1);
    assert.ok(recorder.last.equals(bundleA));
    assert.equal(server.requests[0]!['if-none-match'], undefined);

    await waitFor(() => server.requests.length >= 3, 'more polls');
    assert.equal(server.requests[1]!['if-none-match'], '"a"');
    assert.equal(recorder.bundles.length, 1, 'a 304 delivers nothing');

    server.bundle = bundleB;
    server.etag = '"b"';
    await waitFor(() => recorder.bundles.length === 2, 'the new bundle');
    assert.equal(parsePolicyBundle(recorder.last).revision, 'rev-b');
    const seen = server.requests.length;
    await waitFor(() => server.requests.length >= seen + 2, 'more polls');
    assert.equal(server.requests.at(-1)!['if-none-match'], '"b"');
    assert.equal(recorder.bundles.length, 2);
    assert.deepEqual(recorder.errors, []);
    await source.stop();
  });

  test('survives a 500: reports it, backs off, and recovers', async () => {
    const server = await bundleServer();
    const recorder = new Recorder();
    const source = await started(httpSource(`http://127.0.0.1:${server.port}/b`), recorder);
    server.failWith = 500;
    await waitFor(() => recorder.errors.length >= 2, 'the 500s reported');
    assert.match(recorder.errors[0]!.message, /HTTP 500/);
    assert.doesNotMatch(recorder.errors[0]!.message, /internal details/);

    server.failWith = undefined;
    server.bundle = bundleB;
    server.etag = '"b"';
    await waitFor(() => recorder.bundles.length === 2, 'recovery');
    const errorsAfterRecovery = recorder.errors.length;
    const polled = source.checks;
    await waitFor(() => source.checks >= polled + 3, 'three polls after recovery');
    assert.equal(recorder.errors.length, errorsAfterRecovery, 'no errors once the server is back');
    await source.stop();
  });

  test('survives connection refused, and picks up the bundle when the server is back', async () => {
    const server = await bundleServer();
    const port = server.port;
    await server.close();
    const recorder = new Recorder();
    const source = httpSource(`http://127.0.0.1:${port}/b`);
    running.push(source);
    await assert.rejects(source.start(recorder.onBundle, recorder.onError), /ECONNREFUSED/);
    await waitFor(() => recorder.errors.length >= 1, 'the refused retries reported');
    assert.match(recorder.errors[0]!.message, /ECONNREFUSED/);

    await server.listen(port);
    await waitFor(() => recorder.bundles.length === 1, 'the bundle after the server came back');
    assert.ok(recorder.last.equals(bundleA));
    await source.stop();
  });

  test('rejects a bundle larger than maxBytes, declared or streamed, without delivering it', async () => {
    const server = await bundleServer();
    for (const chunked of [false, true]) {
      server.chunked = chunked;
      const recorder = new Recorder();
      const source = httpSource(`http://127.0.0.1:${server.port}/b`, { maxBytes: bundleA.length - 1 });
      running.push(source);
      await assert.rejects(source.start(recorder.onBundle, recorder.onError), /exceeds the limit/);
      assert.equal(recorder.bundles.length, 0);
      await source.stop();
    }
  });

  test('sends headers and URL credentials but never shows them in its description or errors', async () => {
    const server = await bundleServer();
    const recorder = new Recorder();
    const source = httpSource(`http://bundle-user:s3cret-pass@127.0.0.1:${server.port}/b?X-Amz-Signature=sig-value`, {
      headers: { 'X-Api-Key': 'key-value' },
    });
    await started(source, recorder);
    const sent = server.requests[0]!;
    assert.equal(sent.authorization, `Basic ${Buffer.from('bundle-user:s3cret-pass').toString('base64')}`);
    assert.equal(sent['x-api-key'], 'key-value');

    server.failWith = 503;
    await waitFor(() => recorder.errors.length >= 1, 'an error');
    for (const text of [source.description, ...recorder.errors.map((error) => error.message)]) {
      for (const secret of ['bundle-user', 's3cret-pass', 'sig-value', 'key-value']) assert.ok(!text.includes(secret), `${secret} leaked into: ${text}`);
    }
    assert.match(source.description, /127\.0\.0\.1:\d+\/b\?X-Amz-Signature=…$/);

    const bearer = httpSource(`http://127.0.0.1:${server.port}/b`, { headers: { Authorization: 'Bearer tok' } });
    server.failWith = undefined;
    await started(bearer, new Recorder());
    assert.equal(server.requests.at(-1)!.authorization, 'Bearer tok');
    await source.stop();
    await bearer.stop();
  });

  test('a server without ETags: the same bundle is not delivered twice, a changed one is', async () => {
    const server = await bundleServer();
    server.etag = '';
    const recorder = new Recorder();
    const source = await started(httpSource(`http://127.0.0.1:${server.port}/b`), recorder);
    await waitFor(() => server.requests.length >= 3, 'more polls');
    assert.equal(recorder.bundles.length, 1);
    assert.ok(server.requests.every((headers) => headers['if-none-match'] === undefined));
    server.bundle = bundleB;
    await waitFor(() => recorder.bundles.length === 2, 'the changed bundle');
    assert.equal(parsePolicyBundle(recorder.last).revision, 'rev-b');
    await source.stop();
  });

  test('gives up on a server that does not answer within timeoutMs', async () => {
    const server = await bundleServer();
    server.hang = true;
    const source = httpSource(`http://127.0.0.1:${server.port}/b`, { timeoutMs: 100 });
    running.push(source);
    const startedAt = Date.now();
    await assert.rejects(source.start(async () => {}, () => {}), /timed out after 100 ms/);
    assert.ok(Date.now() - startedAt < 2_000);
    await source.stop();
  });
});
