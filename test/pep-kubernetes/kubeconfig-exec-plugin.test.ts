// The credential-plugin kubeconfig `portcullis kubeconfig --token-command` prints, used as it is by
// the real kubectl and by @kubernetes/client-node: each runs the plugin, the plugin runs the token
// command, and the request goes through the PEP as that token's principal — the PEP impersonates
// it, so the API server's audit log names the principal whose token the command printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { eventually } from '../support/eventually.ts';
import type { KubeAuditEvent } from '../support/kube-apiserver.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

const CLI = join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs');

function portcullis(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('the credential-plugin kubeconfig of portcullis kubeconfig, with kubectl and client-node', () => {
  let stack: KubePepStack;
  /** The `portcullis` the kubeconfig's plugin entry starts (this checkout's CLI). */
  let cliPath: string;
  /** A token command that notes each time it runs, then prints the token in `tokenFile`. */
  let tokenCommand: string;
  let tokenFile: string;
  let callsFile: string;
  let kubeconfigFile: string;
  let printed: string;
  /** Where the CLI runs from source in the suites (NODE_OPTIONS), so the plugin kubectl starts does too. */
  const nodeEnv: Record<string, string> = process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {};

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_KUBERNETES_IMPERSONATE: 'true' } });
    await stack.kube.createNamespace('apps');
    await stack.kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'apps' }, data: { mode: 'on' } }) });
    // The cluster's RBAC lets the impersonated readers read (the PEP's policy still decides first).
    await stack.kube.kubectlOk(['create', 'clusterrolebinding', 'portcullis-readers', '--clusterrole=cluster-admin', '--group=portcullis:reader']);
    await eventually('the cluster RBAC lets portcullis readers list configmaps', async () =>
      (await stack.kube.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'apps', '--as=portcullis:someone', '--as-group=portcullis:reader'])).stdout.trim() === 'yes',
    );

    const binDir = join(stack.clientDir, 'bin');
    mkdirSync(binDir);
    cliPath = join(binDir, 'portcullis');
    writeFileSync(cliPath, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
    tokenFile = join(stack.clientDir, 'plugin-token');
    callsFile = join(stack.clientDir, 'token-command-calls');
    tokenCommand = join(binDir, 'token-source');
    writeFileSync(tokenCommand, `#!/bin/sh\necho called >> "${callsFile}"\ncat "${tokenFile}"\n`, { mode: 0o755 });
    writeFileSync(tokenFile, `${await stack.token('agent-plugin', ['reader'])}\n`);

    const result = await portcullis(['kubeconfig', '--resource', 'prod-cluster', '--server', stack.pep.url, '--token-command', tokenCommand, '--ca-file', stack.pepCaFile, '--cli', cliPath]);
    assert.equal(result.code, 0, result.stderr);
    printed = result.stdout;
    kubeconfigFile = join(stack.clientDir, 'plugin.kubeconfig');
    writeFileSync(kubeconfigFile, printed, { mode: 0o600 });
  });
  after(async () => {
    await stack?.close();
  });

  const tokenCommandCalls = (): number => (existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean).length : 0);

  /** The requests of a probe (a label selector only it uses) that reached the API server. */
  const probeEvents = async (probe: string): Promise<KubeAuditEvent[]> =>
    (await stack.kube.settledAuditEvents()).filter((event) => event.requestURI.includes(`probe%3D${probe}`));

  it('is a client-go credential plugin entry with no token in it', () => {
    assert.match(printed, /exec:\n\s+apiVersion: client\.authentication\.k8s\.io\/v1\n/);
    assert.ok(printed.includes(JSON.stringify(cliPath)), printed);
    assert.ok(printed.includes(JSON.stringify(tokenCommand)), printed);
    assert.doesNotMatch(printed, /token: /);
    assert.ok(!printed.includes(readFileSync(tokenFile, 'utf8').trim()), 'the kubeconfig carries no token');
  });

  it('kubectl runs the token command through the plugin, and its request is allowed through the PEP as that principal', async () => {
    const callsBefore = tokenCommandCalls();
    const result = await stack.kube.kubectl(['get', 'configmaps', '-n', 'apps', '-l', 'probe=kubectl-plugin', '-o', 'name'], { kubeconfig: kubeconfigFile, env: nodeEnv });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(tokenCommandCalls() > callsBefore, 'kubectl ran the token command');

    const listed = await probeEvents('kubectl-plugin');
    assert.equal(listed.length, 1, 'the list reached the API server once');
    assert.equal(listed[0]?.verb, 'list');
    assert.equal(listed[0]?.user.username, 'portcullis-pep');
    assert.equal(listed[0]?.impersonatedUser?.username, 'portcullis:agent-plugin', "as the principal of the command's token");
    assert.equal(listed[0]?.responseStatus?.code, 200);

    const read = await stack.kube.kubectl(['get', 'configmap', 'settings', '-n', 'apps', '-o', 'jsonpath={.data.mode}'], { kubeconfig: kubeconfigFile, env: nodeEnv });
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout, 'on');
  });

  it('client-node loads the same kubeconfig: it runs the plugin, and its read goes through the PEP as that principal', async () => {
    const config = new KubeConfig();
    config.loadFromString(printed);
    assert.equal(config.getCurrentCluster()?.server, stack.pep.url);
    const callsBefore = tokenCommandCalls();
    const list = await config.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'apps', labelSelector: 'probe=client-node-plugin' });
    assert.deepEqual(list.items, []);
    assert.ok(tokenCommandCalls() > callsBefore, 'client-node ran the token command');

    const listed = await probeEvents('client-node-plugin');
    assert.equal(listed.length, 1, 'the list reached the API server once');
    assert.equal(listed[0]?.impersonatedUser?.username, 'portcullis:agent-plugin');
    assert.equal(listed[0]?.responseStatus?.code, 200);
  });

  it('sends nothing when the token command fails: kubectl says why, and nothing reaches the API server', async () => {
    const brokenFile = join(stack.clientDir, 'broken.kubeconfig');
    const broken = await portcullis(['kubeconfig', '--resource', 'prod-cluster', '--server', stack.pep.url, '--token-command', 'echo token source unavailable >&2; exit 7', '--ca-file', stack.pepCaFile, '--cli', cliPath]);
    assert.equal(broken.code, 0, broken.stderr);
    writeFileSync(brokenFile, broken.stdout, { mode: 0o600 });
    const result = await stack.kube.kubectl(['get', 'configmaps', '-n', 'apps', '-l', 'probe=broken-plugin'], { kubeconfig: brokenFile, env: nodeEnv });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /getting credentials/);
    assert.match(result.stderr, /token source unavailable/);
    assert.equal((await probeEvents('broken-plugin')).length, 0, 'nothing reached the API server');
  });
});
