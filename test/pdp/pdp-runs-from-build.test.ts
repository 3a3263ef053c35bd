import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { OPA_VERSION } from '@portcullis/pdp';
import { installedOpa } from '../support/pdp-harness.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

const run = promisify(execFile);
const CLI = join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs');

/**
 * The PDP as an operator runs it: the bin on the package's compiled JavaScript (no tsx: the test
 * runner's NODE_OPTIONS are dropped), from a folder outside the repository, with a PATH that holds
 * neither Go nor opa, and HOME/XDG folders of its own so the default folders can be seen.
 */
function operatorEnv(folder: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const emptyBin = join(folder, 'bin');
  mkdirSync(emptyBin, { recursive: true });
  return {
    HOME: join(folder, 'home'),
    XDG_STATE_HOME: join(folder, 'state'),
    XDG_CACHE_HOME: join(folder, 'cache'),
    PATH: emptyBin,
    PORTCULLIS_PORT: '0',
    PORTCULLIS_POLICY_WORKERS: '1',
    ...extra,
  };
}

interface Served {
  readonly process: ChildProcess;
  readonly url: string;
  readonly log: () => string;
}

/** Starts `portcullis serve`; resolves on its "listening" line, rejects with its log if it exits first. */
function serve(folder: string, env: NodeJS.ProcessEnv): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve'], { cwd: folder, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 60 s:\n${log}`)), 60_000);
    child.stderr!.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve({ process: child, url: match[1]!, log: () => log });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`the server exited with ${code}:\n${log}`), { log }));
    });
  });
}

async function stop(served: Served | undefined): Promise<void> {
  if (served === undefined || served.process.exitCode !== null) return;
  const exited = new Promise((resolve) => served.process.once('exit', resolve));
  served.process.kill('SIGTERM');
  await exited;
}

describe('the PDP runs from its build', () => {
  const folders: string[] = [];
  const running: Served[] = [];
  const folder = (): string => {
    const created = mkdtempSync(join(tmpdir(), 'portcullis-build-'));
    folders.push(created);
    return created;
  };
  after(async () => {
    await Promise.all(running.map(stop));
    for (const created of folders) rmSync(created, { recursive: true, force: true });
  });

  it('serves the shipped starter bundle with no Go, no opa and no tsx, keeping its state under XDG_STATE_HOME', async () => {
    const here = folder();
    const env = operatorEnv(here);
    const served = await serve(here, env);
    running.push(served);
    assert.match(served.log(), /policy bundle sha256-\w+ active .*from bundle file .*policies\/build\/bundle\.tar\.gz/);
    assert.doesNotMatch(served.log(), /opa|go install/i, 'a bundle needs no OPA toolchain');

    // The CLI, from another folder, finds the same default state (the dev issuer's keys).
    const token = async (...args: string[]): Promise<string> => (await run(process.execPath, [CLI, 'token', ...args], { cwd: tmpdir(), env })).stdout.trim();
    const pep = await token('--sub', 'pep-orders-db', '--role', 'pep', '--resource', 'orders-db');
    const agent = await token('--sub', 'agent-7', '--role', 'reader', '--kind', 'agent');
    const answer = await fetch(`${served.url}/v1/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pep}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        subject_token: agent,
        resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
        action: { type: 'sql', sql: 'DELETE FROM orders' },
      }),
    });
    assert.equal(answer.status, 200);
    assert.ok(existsSync(join(here, 'state/portcullis/dev-issuer')), 'the dev issuer keys are under $XDG_STATE_HOME/portcullis');
    assert.ok(existsSync(join(here, 'state/portcullis/audit')), 'the audit files are under $XDG_STATE_HOME/portcullis');
    const body = (await answer.json()) as { effect: string; reasons: { code: string }[] };
    assert.equal(body.effect, 'deny');
    assert.ok(body.reasons.some((reason) => reason.code === 'sql-delete-without-where'), JSON.stringify(body));
  });

  it('serving a Rego folder, says it must build opa, and without Go fails to start naming what is missing', async () => {
    const here = folder();
    const policies = join(REPOSITORY_ROOT, 'policies');
    await assert.rejects(serve(here, operatorEnv(here, { PORTCULLIS_POLICY_DIR: policies })), (error: Error & { log?: string }) => {
      assert.match(error.log ?? '', /serving a Rego folder needs opa .* building it with 'go install'/);
      assert.match(error.log ?? '', /go is not installed .*PORTCULLIS_OPA_PATH/);
      return true;
    });
  });

  it('serving a Rego folder with opa in the cache builds nothing', async () => {
    const here = folder();
    const cache = join(here, 'cache/portcullis/tools/bin');
    mkdirSync(cache, { recursive: true });
    symlinkSync(installedOpa(), join(cache, `opa-${OPA_VERSION}`));
    const served = await serve(here, operatorEnv(here, { PORTCULLIS_POLICY_DIR: join(REPOSITORY_ROOT, 'policies') }));
    running.push(served);
    assert.match(served.log(), /policy bundle \S+ active .*from rego folder/);
    assert.doesNotMatch(served.log(), /go install/);
  });
});
