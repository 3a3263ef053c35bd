import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { runTokenCommand } from '../src/cli/token-command.ts';
import { DevIssuer, devIssuerDirectory } from '../src/identity/dev-issuer.ts';
import { JoseTokenVerifier } from '../src/identity/token-verifier.ts';

const TOKEN_COMMAND = fileURLToPath(new URL('../src/cli/token-command.ts', import.meta.url));

/** Runs the command in its own process, as `portcullis token` would, and captures both streams. */
async function runInProcess(args: string[], stateDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `
    const { runTokenCommand } = await import(${JSON.stringify(TOKEN_COMMAND)});
    process.exitCode = await runTokenCommand(process.argv.slice(1), ${JSON.stringify(stateDir)});
  `;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function runCaptured(args: string[], stateDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runTokenCommand(args, stateDir, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('portcullis token', () => {
  let stateDir: string;
  let verifier: JoseTokenVerifier;

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'portcullis-token-cli-'));
    verifier = new JoseTokenVerifier({ issuers: [new DevIssuer({ directory: devIssuerDirectory(stateDir) }).trustedIssuer()], audience: 'portcullis' });
  });
  after(() => rm(stateDir, { recursive: true, force: true }));

  test('prints only a JWT that verifies with the requested sub, roles and kind', async () => {
    const run = await runInProcess(['--sub', 'deploy-bot', '--role', 'reader', '--role', 'writer', '--kind', 'human', '--ttl', '10m'], stateDir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    const result = await verifier.verify(run.stdout.trim());
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.equal(result.principal.sub, 'deploy-bot');
    assert.deepEqual(result.principal.roles, ['reader', 'writer']);
    assert.equal(result.principal.kind, 'human');
    assert.equal(result.principal.iss, 'portcullis-dev');
    assert.equal(result.principal.exp! - (result.principal.claims.iat as number), 600);
  });

  test('defaults to kind agent, no roles and a 15 minute TTL', async () => {
    const run = await runCaptured(['--sub', 'agent-7'], stateDir);
    assert.equal(run.code, 0, run.stderr);
    const result = await verifier.verify(run.stdout.trim());
    assert.ok(result.ok);
    assert.equal(result.principal.kind, 'agent');
    assert.deepEqual(result.principal.roles, []);
    assert.equal(result.principal.exp! - (result.principal.claims.iat as number), 900);
  });

  test('a PEP credential is a token with role pep bound to the resources it fronts', async () => {
    const run = await runCaptured(['--sub', 'pep-orders-db', '--role', 'pep', '--resource', 'orders-db', '--resource', 'staging-*'], stateDir);
    const result = await verifier.verify(run.stdout.trim());
    assert.ok(result.ok);
    assert.deepEqual(result.principal.roles, ['pep']);
    assert.deepEqual(result.principal.claims.portcullis_resources, ['orders-db', 'staging-*']);
  });

  test('a PEP credential without --resource is refused before it is minted', async () => {
    const run = await runCaptured(['--sub', 'pep-orders-db', '--role', 'pep'], stateDir);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /must name the resources it fronts: --resource/);
  });

  test('--console mints a console session: the console audience, never the API one', async () => {
    const run = await runCaptured(['--sub', 'alice', '--role', 'approver', '--kind', 'human', '--console'], stateDir);
    assert.equal(run.code, 0);
    const refused = await verifier.verify(run.stdout.trim());
    assert.equal(refused.ok, false);
    const consoleVerifier = new JoseTokenVerifier({ issuers: [new DevIssuer({ directory: devIssuerDirectory(stateDir) }).trustedIssuer()], audience: 'portcullis-console' });
    const accepted = await consoleVerifier.verify(run.stdout.trim());
    assert.ok(accepted.ok);
    assert.deepEqual(accepted.principal.aud, ['portcullis-console']);
  });

  test('--aud sets the audience', async () => {
    const run = await runCaptured(['--sub', 'agent-7', '--aud', 'other-api'], stateDir);
    assert.equal(run.code, 0);
    const result = await verifier.verify(run.stdout.trim());
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.code, 'token-wrong-audience');
  });

  test('bad arguments exit 2 with the problem and a usage line on stderr, and nothing on stdout', async () => {
    for (const [args, problem] of [
      [[], /--sub is required/],
      [['--sub', '  '], /--sub is required/],
      [['--sub', 'a', '--kind', 'robot'], /--kind must be agent or human/],
      [['--sub', 'a', '--ttl', 'forever'], /--ttl: invalid duration "forever"/],
      [['--sub', 'a', '--ttl', '0'], /--ttl: .*greater than zero/],
      [['--sub', 'a', '--role', 'two words'], /--role/],
      [['--sub', 'a', '--aud', ''], /--aud/],
      [['--sub', 'a', '--aud', 'x', '--console'], /--console or --aud/],
      [['--sub', 'a', '--role', 'pep', '--resource', 'two words'], /--resource/],
      [['--sub', 'a', '--role', 'pep', '--resource', ':orders-db'], /--resource/],
      [['--sub', 'a', '--console', '--resource', 'orders-db'], /--resource/],
      [['--sub', 'a', '--bogus'], /bogus/],
      [['--sub', 'a', 'extra'], /extra/],
      [['--sub'], /--sub/],
    ] as const) {
      const run = await runCaptured([...args], stateDir);
      assert.equal(run.code, 2, `args ${JSON.stringify(args)}`);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, problem);
      assert.match(run.stderr, /^usage: portcullis token --sub/m);
    }
  });

  test('--help prints the usage line and exits 0', async () => {
    const run = await runCaptured(['--help'], stateDir);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^usage: portcullis token/);
  });

  test('a state folder that cannot hold keys exits 1 without printing a token', async () => {
    const blocker = join(stateDir, 'not-a-folder');
    await writeFile(blocker, '');
    const run = await runCaptured(['--sub', 'agent-7'], join(blocker, 'state'));
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /could not issue a token/);
  });
});
