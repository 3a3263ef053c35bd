// `portcullis kubeconfig` prints what kubectl needs to reach a cluster through its PEP: a token
// form, and a credential-plugin form whose token command runs for every kubectl run, so a
// refreshed token is used without touching the kubeconfig.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

const CLI = join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs');

function portcullis(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('portcullis kubeconfig', () => {
  let stack: KubePepStack;
  /** A folder on kubectl's PATH with a `portcullis` that runs this checkout's CLI. */
  let binDir: string;

  before(async () => {
    stack = await startKubePepStack();
    await stack.kube.createNamespace('apps');
    binDir = join(stack.clientDir, 'bin');
    mkdirSync(binDir);
    writeFileSync(join(binDir, 'portcullis'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
  });
  after(() => stack?.close());

  const kubectlWith = (kubeconfigText: string, name: string, args: string[]) => {
    const file = join(stack.clientDir, `${name}.kubeconfig`);
    writeFileSync(file, kubeconfigText, { mode: 0o600 });
    return stack.kube.kubectl(args, { kubeconfig: file, env: { PATH: `${binDir}:${process.env.PATH}`, ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}) } });
  };

  it('prints a token kubeconfig that kubectl uses through the PEP, with the namespace as its default', async () => {
    const reader = await stack.token('agent-reader', ['reader']);
    const printed = await portcullis(['kubeconfig', '--resource', 'prod-cluster', '--server', stack.pep.url, '--token', reader, '--ca-file', stack.pepCaFile, '--namespace', 'apps']);
    assert.equal(printed.code, 0, printed.stderr);
    const result = await kubectlWith(printed.stdout, 'token-form', ['get', 'serviceaccounts', '-o', 'name']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'serviceaccount/default\n');
  });

  it('prints a credential-plugin kubeconfig whose token command runs on every kubectl run', async () => {
    const tokenFile = join(stack.clientDir, 'current-token');
    writeFileSync(tokenFile, `${await stack.token('agent-reader', ['reader'])}\n`);
    const printed = await portcullis(['kubeconfig', '--resource', 'prod-cluster', '--server', stack.pep.url, '--token-command', `cat ${tokenFile}`, '--ca-file', stack.pepCaFile]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /apiVersion: client\.authentication\.k8s\.io\/v1/);
    const allowed = await kubectlWith(printed.stdout, 'exec-form', ['get', 'namespace', 'apps', '-o', 'name']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.stdout, 'namespace/apps\n');

    // The token changes (a refresh): the next kubectl run asks with the new one, here one without roles.
    writeFileSync(tokenFile, `${await stack.token('agent-nobody', [])}\n`);
    const refused = await kubectlWith(printed.stdout, 'exec-form', ['get', '--raw', '/api/v1/namespaces/apps']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Forbidden/);
  });

  it('exec-credential prints an ExecCredential with the token and its expiry, and fails plainly when the command does', async () => {
    const token = await stack.token('agent-reader', ['reader']);
    const printed = await portcullis(['kubeconfig', 'exec-credential', '--token-command', `printf '%s\\n' ${token}`]);
    assert.equal(printed.code, 0, printed.stderr);
    const credential = JSON.parse(printed.stdout) as { apiVersion: string; kind: string; status: { token: string; expirationTimestamp: string } };
    assert.equal(credential.apiVersion, 'client.authentication.k8s.io/v1');
    assert.equal(credential.kind, 'ExecCredential');
    assert.equal(credential.status.token, token);
    const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp;
    assert.equal(Date.parse(credential.status.expirationTimestamp), exp * 1000);

    const failing = await portcullis(['kubeconfig', 'exec-credential', '--token-command', 'echo no such token source >&2; exit 3']);
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /the token command failed: .*no such token source/);
    assert.equal(failing.stdout, '');
  });

  it('refuses bad arguments with the usage', async () => {
    for (const args of [
      ['kubeconfig', '--server', 'https://127.0.0.1:6443', '--token', 't'],
      ['kubeconfig', '--resource', 'prod-cluster', '--server', 'http://127.0.0.1:6443', '--token', 't'],
      ['kubeconfig', '--resource', 'prod-cluster', '--server', 'https://127.0.0.1:6443'],
      ['kubeconfig', '--resource', 'prod-cluster', '--server', 'https://127.0.0.1:6443', '--token', 't', '--token-command', 'cat x'],
      ['kubeconfig', '--resource', 'prod-cluster', '--server', 'https://127.0.0.1:6443', '--token', 't', '--ca-file', '/nonexistent'],
    ]) {
      const result = await portcullis(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /usage: portcullis kubeconfig/);
      assert.equal(result.stdout, '');
    }
  });
});
