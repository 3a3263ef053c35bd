// The PEP's side towards the cluster and what happens when a part is away: its credential as a
// token or a client certificate, its own TLS certificate created once and kept, an API server
// that cannot be reached, and a PDP outage — each failing closed with a Status, nothing forwarded.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPepKubernetesConfig, startKubernetesPep, type RunningKubernetesPep } from '@portcullis/pep-kubernetes';
import { kubeconfigText } from '../support/kube-apiserver.ts';
import { freePort } from '../support/redis-server.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

describe('the Kubernetes PEP towards the cluster, and its faults', () => {
  let stack: KubePepStack;
  let reader: string;
  const others: RunningKubernetesPep[] = [];

  before(async () => {
    stack = await startKubePepStack();
    await stack.kube.createNamespace('apps');
    reader = await stack.token('agent-reader', ['reader']);
  });
  after(async () => {
    for (const pep of others) await pep.close();
    await stack?.close();
  });

  /** Another PEP like the stack's, with some settings changed (a variable set to '' is removed). */
  const anotherPep = async (changes: Record<string, string>): Promise<RunningKubernetesPep> => {
    const env: Record<string, string> = { ...stack.pepEnvironment, ...changes };
    for (const [name, value] of Object.entries(env)) if (value === '') delete env[name];
    const pep = await startKubernetesPep(loadPepKubernetesConfig(env), { env, log: (message) => stack.logs.push(message) });
    others.push(pep);
    return pep;
  };

  const kubectlVia = (pep: RunningKubernetesPep, caFile: string, args: string[]) => {
    const config = join(stack.clientDir, `via-${pep.port}.kubeconfig`);
    writeFileSync(config, kubeconfigText(pep.url, caFile, reader), { mode: 0o600 });
    return stack.kube.kubectl(args, { kubeconfig: config });
  };

  it('reaches the API server with a client certificate as its credential', async () => {
    const pep = await anotherPep({
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_TOKEN: '',
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_CLIENT_CERT_FILE: stack.kube.pepClientCertificate.certFile,
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_CLIENT_KEY_FILE: stack.kube.pepClientCertificate.keyFile,
    });
    const result = await kubectlVia(pep, stack.pepCaFile, ['get', 'configmaps', '-n', 'apps', '-o', 'name', '-l', 'probe=client-cert']);
    assert.equal(result.code, 0, result.stderr);
    const listed = (await stack.kube.settledAuditEvents()).find((event) => event.requestURI.includes('probe%3Dclient-cert'));
    assert.equal(listed?.user.username, 'portcullis-pep');
    assert.ok(listed?.user.groups?.includes('system:masters'), 'the certificate’s organisation is its group');
  });

  it('creates its TLS certificate once in the state folder and keeps it across restarts; kubectl pinning it connects', async () => {
    const stateDir = mkdtempSync(join(stack.clientDir, 'created-cert-'));
    const changes = { PORTCULLIS_PEP_TLS_CERT_FILE: '', PORTCULLIS_PEP_TLS_KEY_FILE: '', PORTCULLIS_PEP_STATE_DIR: stateDir };
    const first = await anotherPep(changes);
    const pinned = join(stateDir, 'pinned.crt');
    writeFileSync(pinned, first.certificatePem);
    const result = await kubectlVia(first, pinned, ['get', 'configmaps', '-n', 'apps', '-o', 'name']);
    assert.equal(result.code, 0, result.stderr);
    const fingerprint = first.certificateFingerprint;
    await first.close();
    others.splice(others.indexOf(first), 1);
    const second = await anotherPep(changes);
    assert.equal(second.certificateFingerprint, fingerprint);
    // A client pinning another certificate is refused by kubectl itself.
    const wrong = await kubectlVia(second, stack.kube.caFile, ['get', 'configmaps', '-n', 'apps']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /certificate/);
  });

  it('answers 503 ServiceUnavailable when the API server cannot be reached', async () => {
    const pep = await anotherPep({ PORTCULLIS_PEP_KUBERNETES_UPSTREAM_URL: `https://127.0.0.1:${await freePort()}` });
    const result = await kubectlVia(pep, stack.pepCaFile, ['get', '--raw', '/api/v1/namespaces/apps/configmaps']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Error from server \(ServiceUnavailable\): portcullis: the API server could not be reached/);
  });

  it('refuses an upstream CA that does not vouch for the API server: nothing is forwarded', async () => {
    const pep = await anotherPep({ PORTCULLIS_PEP_KUBERNETES_UPSTREAM_CA_FILE: stack.pepCaFile });
    const result = await kubectlVia(pep, stack.pepCaFile, ['get', '--raw', '/api/v1/namespaces/apps/configmaps?labelSelector=probe%3Dwrong-ca']);
    assert.match(result.stderr, /ServiceUnavailable/);
    assert.equal((await stack.kube.settledAuditEvents()).filter((event) => event.requestURI.includes('probe%3Dwrong-ca')).length, 0);
  });

  it('fails closed when the PDP is away: 503 ServiceUnavailable, and nothing reaches the API server', async () => {
    await stack.pdp.close();
    const raw = await stack.kubectl(reader, ['get', '--raw', '/api/v1/namespaces/apps/configmaps?labelSelector=probe%3Doutage']);
    assert.notEqual(raw.code, 0);
    assert.match(raw.stderr, /Error from server \(ServiceUnavailable\): portcullis: no policy decision could be had, so nothing was run/);
    const get = await stack.kubectl(reader, ['get', 'configmaps', '-n', 'apps', '-l', 'probe=outage']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /ServiceUnavailable/);
    assert.equal((await stack.kube.settledAuditEvents()).filter((event) => event.requestURI.includes('probe%3Doutage')).length, 0);
  });
});
