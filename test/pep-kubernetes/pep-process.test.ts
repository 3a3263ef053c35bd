// The Kubernetes PEP as its bin runs it, and its shutdown: configured from the environment it
// prints its certificate's fingerprint, serves kubectl, and exits 0 on SIGTERM; closing it ends a
// watch that is still open and resolves.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPepKubernetesConfig, startKubernetesPep } from '@portcullis/pep-kubernetes';
import { eventually } from '../support/eventually.ts';
import { kubeconfigText } from '../support/kube-apiserver.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

describe('the portcullis-pep-kubernetes process', () => {
  let stack: KubePepStack;
  let reader: string;

  before(async () => {
    stack = await startKubePepStack();
    await stack.kube.createNamespace('apps');
    reader = await stack.token('agent-reader', ['reader']);
  });
  after(() => stack?.close());

  it('prints its certificate fingerprint, serves kubectl, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'pep-agents/kubernetes/bin/pep-kubernetes.mjs')], {
      env: { ...process.env, ...stack.pepEnvironment, PORTCULLIS_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const fingerprint = await eventually('the fingerprint on stderr', () => /TLS certificate fingerprint ([0-9A-F:]+)/.exec(stderr)?.[1], { timeoutMs: 30_000 });
      assert.equal(fingerprint, stack.pep.certificateFingerprint);
      const port = Number(await eventually('the listening line', () => /"port":(\d+)/.exec(stderr)?.[1], { timeoutMs: 30_000 }));
      const config = join(stack.clientDir, 'process.kubeconfig');
      writeFileSync(config, kubeconfigText(`https://127.0.0.1:${port}`, stack.pepCaFile, reader), { mode: 0o600 });
      const result = await stack.kube.kubectl(['get', 'namespace', 'apps', '-o', 'name'], { kubeconfig: config });
      assert.equal(result.stdout, 'namespace/apps\n', result.stderr);
      assert.doesNotMatch(stderr, new RegExp(reader.slice(-20)), 'the caller token is never logged');
      assert.doesNotMatch(stderr, new RegExp(stack.kube.pepToken), 'the PEP credential is never logged');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
  });

  it('ends an open watch when it closes, and resolves', async () => {
    const env = { ...stack.pepEnvironment };
    const pep = await startKubernetesPep(loadPepKubernetesConfig(env), { env, log: () => undefined });
    const config = join(stack.clientDir, 'watch.kubeconfig');
    writeFileSync(config, kubeconfigText(pep.url, stack.pepCaFile, reader), { mode: 0o600 });
    const watching = stack.kube.kubectl(['get', 'configmaps', '-n', 'apps', '--watch', '-o', 'name'], { kubeconfig: config });
    await eventually('the watch reached the API server', async () => stack.kube.auditEvents().some((event) => event.verb === 'watch' && event.objectRef?.namespace === 'apps'));
    assert.equal(pep.health().sessions, 1);
    await pep.close();
    const result = await watching;
    assert.ok(result.code !== null, 'kubectl ended');
    assert.equal(pep.health().sessions, 0);
  });
});
