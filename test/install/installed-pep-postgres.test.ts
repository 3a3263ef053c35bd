// The Postgres PEP as an operator installs it: `npm pack` of the package and the workspace
// packages it depends on, installed into an empty folder outside the repository, started with
// plain node (no tsx, no source condition) against a real PDP and a real PostgreSQL.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { loginNameOf } from '../pep-postgres/raw-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { startTestPostgres, type TestPostgres } from '../support/postgres-server.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

const run = promisify(execFile);

/** What a PEP install must not hold: the PDP and what only the PDP needs, and the dev-time TypeScript loader. */
const FORBIDDEN = ['@portcullis/pdp', '@open-policy-agent/opa-wasm', 'kafkajs', 'express', 'ioredis', 'libpg-query', 'tsx'];

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

/** The environment of a process outside the test runner: no tsx, no "source" condition. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _dropped, ...env } = process.env;
  return { ...env, ...extra };
}

/** Workspace packages by name → folder, from the root package.json's workspaces. */
function workspaces(): Map<string, string> {
  const root = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const folders = root.workspaces.flatMap((pattern) =>
    pattern.endsWith('/*')
      ? readdirSync(join(REPOSITORY_ROOT, pattern.slice(0, -2)), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => join(pattern.slice(0, -2), entry.name))
      : [pattern],
  );
  const byName = new Map<string, string>();
  for (const folder of folders) {
    const file = join(REPOSITORY_ROOT, folder, 'package.json');
    if (existsSync(file)) byName.set((JSON.parse(readFileSync(file, 'utf8')) as Manifest).name, join(REPOSITORY_ROOT, folder));
  }
  return byName;
}

/** The package and every workspace package it depends on, directly or not. */
function workspaceClosure(name: string, all: Map<string, string>): string[] {
  const found = new Set<string>();
  const visit = (current: string): void => {
    if (found.has(current)) return;
    found.add(current);
    const manifest = JSON.parse(readFileSync(join(all.get(current)!, 'package.json'), 'utf8')) as Manifest;
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      if (all.has(dependency)) visit(dependency);
    }
  };
  visit(name);
  return [...found];
}

/** Every package installed under `folder`/node_modules (nested ones too), with the packages that depend on it. */
function installedTree(folder: string): { packages: Map<string, { version: string; path: string }[]>; dependents: Map<string, Set<string>> } {
  const packages = new Map<string, { version: string; path: string }[]>();
  const dependents = new Map<string, Set<string>>();
  const depend = (from: string, manifest: Manifest): void => {
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      if (!dependents.has(dependency)) dependents.set(dependency, new Set());
      dependents.get(dependency)!.add(from);
    }
  };
  depend('(the install)', JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Manifest);
  const walk = (modules: string): void => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((scoped) => `${entry}/${scoped}`) : [entry];
      for (const name of names) {
        const file = join(modules, name, 'package.json');
        if (!existsSync(file)) continue;
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
        packages.set(name, [...(packages.get(name) ?? []), { version: manifest.version, path: join(modules, name) }]);
        depend(name, manifest);
        walk(join(modules, name, 'node_modules'));
      }
    }
  };
  walk(join(folder, 'node_modules'));
  return { packages, dependents };
}

/** "express 5.1.0 (…/node_modules/express), pulled in by @portcullis/pdp ← @portcullis/pep-core ← …" for each forbidden package present. */
function forbiddenFound(folder: string): string[] {
  const { packages, dependents } = installedTree(folder);
  const chain = (name: string): string => {
    const seen = new Set([name]);
    const links: string[] = [];
    let current = name;
    for (;;) {
      const next = [...(dependents.get(current) ?? [])].find((candidate) => !seen.has(candidate));
      if (next === undefined) break;
      links.push(next);
      seen.add(next);
      current = next;
    }
    return links.join(' ← ') || 'nothing that declares it';
  };
  return FORBIDDEN.filter((name) => packages.has(name)).map((name) =>
    `${name} ${packages.get(name)!.map((copy) => `${copy.version} (${copy.path})`).join(', ')}, pulled in by ${chain(name)}`,
  );
}

/** Starts the installed bin; resolves with its port once it logs that it listens, rejects with its output if it exits first. */
function startInstalledPep(bin: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, [bin], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => { output += chunk.toString(); };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the installed PEP did not listen within 60 s:\n${output}`)), 60_000);
    child.stderr!.on('data', () => {
      const match = /listening on [\d.]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => output });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the installed PEP exited (${code ?? signal}) before it listened:\n${output}`));
    });
  });
}

describe('the Postgres PEP installed from its packages', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'portcullis-installed-pep-'));
  const app = join(scratch, 'app');
  let postgres: TestPostgres | undefined;
  let pdp: TestPdp | undefined;
  let pep: ChildProcess | undefined;

  before(async () => {
    const all = workspaces();
    const packed = workspaceClosure('@portcullis/pep-postgres', all);
    const packs = join(scratch, 'packs');
    mkdirSync(packs);
    mkdirSync(app);
    const tarballs: Record<string, string> = {};
    for (const name of packed) {
      const folder = all.get(name)!;
      assert.ok(existsSync(join(folder, 'dist')), `${name} is not built (no ${folder}/dist): run npm run build first`);
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packs], { cwd: folder, env: plainEnv() });
      tarballs[name] = `file:${join(packs, (JSON.parse(stdout) as { filename: string }[])[0]!.filename)}`;
    }
    // The workspace packages come from these tarballs only, wherever they are asked for ("*"):
    // never from the registry, where the names may belong to someone else.
    const overrides = Object.fromEntries(packed.map((name) => [name, `$${name}`]));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'installed-pep', private: true, dependencies: tarballs, overrides }, null, 2));
    await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, env: plainEnv(), maxBuffer: 16 * 1024 * 1024 });
  });

  after(async () => {
    if (pep && pep.exitCode === null && pep.signalCode === null) {
      const exited = new Promise((resolve) => pep!.once('exit', resolve));
      pep.kill('SIGTERM');
      await exited;
    }
    await pdp?.close();
    await postgres?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('holds none of the PDP, opa-wasm, kafkajs, express, ioredis, libpg-query or tsx', () => {
    const found = forbiddenFound(app);
    assert.equal(found.length, 0, `the installed PEP holds packages a PEP must not pull in:\n  ${found.join('\n  ')}`);
  });

  it('runs with plain node against a real PDP and PostgreSQL, and answers a query through node-postgres', async () => {
    const upstreamPassword = randomBytes(12).toString('hex');
    postgres = await startTestPostgres({
      seed: `
        CREATE ROLE portcullis_app LOGIN PASSWORD '${upstreamPassword}';
        GRANT CREATE ON SCHEMA public TO portcullis_app;
        SET ROLE portcullis_app;
        CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, qty int NOT NULL);
        INSERT INTO orders (item, qty) SELECT 'item-' || g, g FROM generate_series(1, 20) g;
      `,
    });
    pdp = await startTestPdp();
    const bin = join(app, 'node_modules/@portcullis/pep-postgres/bin/pep-postgres.mjs');
    const started = await startInstalledPep(bin, app, plainEnv({
      PORTCULLIS_PEP_LISTEN_PORT: '0',
      PORTCULLIS_PEP_UPSTREAM_PORT: String(postgres.port),
      PORTCULLIS_PEP_UPSTREAM_USER: 'portcullis_app',
      PORTCULLIS_PEP_UPSTREAM_PASSWORD: upstreamPassword,
      PORTCULLIS_PEP_PDP_URL: pdp.url,
      PORTCULLIS_PEP_TOKEN: await pdp.pepTokenFor(['analytics-db'], 'pep-analytics-db'),
      PORTCULLIS_PEP_RESOURCE_NAME: 'analytics-db',
    }));
    pep = started.child;

    const token = await pdp.token({ sub: 'agent-installed', roles: ['reader'], kind: 'agent' });
    const client = new pg.Client({ host: '127.0.0.1', port: started.port, user: loginNameOf(token), database: 'analytics', password: token });
    await client.connect();
    try {
      const result = await client.query('SELECT count(*)::int AS orders FROM orders');
      assert.deepEqual(result.rows, [{ orders: 20 }]);
      await assert.rejects(client.query('DELETE FROM orders'), /DELETE without WHERE|sql-delete-without-where/, 'the installed PEP enforces policy');
    } finally {
      await client.end();
    }
  });
});
