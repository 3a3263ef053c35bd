// The official JavaScript client, @kubernetes/client-node, through the PEP to the real API server:
// reads allowed for a reader; refusals come back as the client's ApiException with the PEP's
// Status (policy's reason) and never reach the API server; Secret values come back masked through
// read, list, a Watch and an informer (list then watch); a privileged pod is not created; a PDP
// outage fails closed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubernetesObjectApi, makeInformer, Watch, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { eventually } from '../support/eventually.ts';
import { apiFailure, pepKubeConfig } from './client-node-config.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

/** The Secret values the API server holds; a non-admin must never see them through the PEP. */
const SECRET_VALUES = { username: 'app-owner', password: 'correct-horse-battery-staple' };
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** A Secret manifest (JSON, so kubectl sends it as it is). */
const secretManifest = (name: string, values: Record<string, string>): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'apps' }, type: 'Opaque', data: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, base64(value)])) });

/** Every place a real value could show in what a client got: its text, and its base64 form. */
function assertNoSecretValue(seen: unknown, where: string): void {
  const text = JSON.stringify(seen);
  for (const value of Object.values(SECRET_VALUES)) {
    assert.ok(!text.includes(value) && !text.includes(base64(value)), `${where} carries a real Secret value: ${text}`);
  }
}

/** A Secret as a non-admin sees it: every data key there, every value masked. */
function assertMasked(secret: V1Secret | undefined, where: string): void {
  assert.ok(secret?.data, `${where}: the Secret has data`);
  assert.deepEqual(Object.keys(secret.data).sort(), Object.keys(SECRET_VALUES).sort(), `${where}: the data keys are kept`);
  for (const [key, value] of Object.entries(secret.data)) assert.equal(value, '****', `${where}: data.${key} is masked`);
  assertNoSecretValue(secret, where);
}

describe('@kubernetes/client-node through the Kubernetes PEP', () => {
  let stack: KubePepStack;
  let reader: string;
  let readerApi: CoreV1Api;

  before(async () => {
    stack = await startKubePepStack();
    await stack.kube.createNamespace('apps');
    await stack.kube.kubectlOk(['run', 'web', '-n', 'apps', '--image=nginx:1.27', '--restart=Never']);
    await stack.kube.kubectlOk(['create', '-f', '-'], { input: secretManifest('db-credentials', SECRET_VALUES) });
    reader = await stack.token('agent-reader', ['reader']);
    readerApi = pepKubeConfig(stack, reader).makeApiClient(CoreV1Api);
  });
  after(async () => {
    await stack?.close();
  });

  it('lists and reads pods for a reader, reaching the API server as the PEP', async () => {
    const pods = await readerApi.listNamespacedPod({ namespace: 'apps' });
    assert.deepEqual(
      pods.items.map((pod) => pod.metadata?.name),
      ['web'],
    );
    const pod: V1Pod = await readerApi.readNamespacedPod({ name: 'web', namespace: 'apps' });
    assert.equal(pod.spec?.containers[0]?.image, 'nginx:1.27');
    const namespaces = await readerApi.listNamespace();
    assert.ok(namespaces.items.some((namespace) => namespace.metadata?.name === 'apps'));

    const events = await stack.kube.settledAuditEvents();
    const list = events.find((event) => event.verb === 'list' && event.requestURI.startsWith('/api/v1/namespaces/apps/pods'));
    const get = events.find((event) => event.verb === 'get' && event.requestURI.startsWith('/api/v1/namespaces/apps/pods/web'));
    assert.equal(list?.user.username, 'portcullis-pep', 'the list reached the API server from the PEP');
    assert.equal(get?.user.username, 'portcullis-pep', 'the read reached the API server from the PEP');
  });

  it('answers a denied read with an ApiException carrying a 403 Status that names the policy reason; the API server never sees it', async () => {
    const { code, status } = await apiFailure(readerApi.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'probe=client-node-denied' }));
    assert.equal(code, 403);
    assert.equal(status.kind, 'Status');
    assert.equal(status.status, 'Failure');
    assert.equal(status.code, 403);
    assert.equal(status.reason, 'Forbidden');
    assert.match(status.message, /^portcullis: denied by policy/);
    assert.match(status.message, /agents may not touch the kube-system namespace/);

    const events = await stack.kube.settledAuditEvents();
    assert.equal(events.filter((event) => event.requestURI.includes('probe%3Dclient-node-denied')).length, 0, 'the denied list never reached the API server');
  });

  it('answers a reader\'s delete with a 403 Status naming the missing access; the pod stays', async () => {
    const { code, status } = await apiFailure(readerApi.deleteNamespacedPod({ name: 'web', namespace: 'apps' }));
    assert.equal(code, 403);
    assert.equal(status.reason, 'Forbidden');
    assert.match(status.message, /no role of the principal grants write access on prod-cluster/);

    const events = await stack.kube.settledAuditEvents();
    assert.equal(events.filter((event) => event.verb === 'delete').length, 0, 'no delete reached the API server');
    assert.equal(await stack.kube.kubectlOk(['get', 'pod', 'web', '-n', 'apps', '-o', 'name']), 'pod/web\n');
  });

  it('masks a Secret read through readNamespacedSecret and listNamespacedSecret for a non-admin', async () => {
    const read = await readerApi.readNamespacedSecret({ name: 'db-credentials', namespace: 'apps' });
    assert.equal(read.metadata?.name, 'db-credentials');
    assertMasked(read, 'readNamespacedSecret');

    const list = await readerApi.listNamespacedSecret({ namespace: 'apps' });
    const listed = list.items.find((secret) => secret.metadata?.name === 'db-credentials');
    assertMasked(listed, 'listNamespacedSecret');
    assertNoSecretValue(list, 'listNamespacedSecret');

    // The values are there, and policy's masks are why a reader does not see them: the cluster's administrator reads them.
    const admin = await stack.token('kube-operator', ['kube-admin'], 'human');
    const unmasked = await pepKubeConfig(stack, admin).makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'db-credentials', namespace: 'apps' });
    assert.deepEqual(unmasked.data, { username: base64(SECRET_VALUES.username), password: base64(SECRET_VALUES.password) });
  });

  it('masks a Secret read through the generic KubernetesObjectApi (discovery first, then read and list)', async () => {
    const objects = KubernetesObjectApi.makeApiClient(pepKubeConfig(stack, reader));
    const read = await objects.read<V1Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-credentials', namespace: 'apps' } });
    assertMasked(read, 'KubernetesObjectApi.read');
    const list = await objects.list<V1Secret>('v1', 'Secret', 'apps');
    assertMasked(list.items.find((secret) => secret.metadata?.name === 'db-credentials'), 'KubernetesObjectApi.list');
    assertNoSecretValue(list, 'KubernetesObjectApi.list');
  });

  // The watch parameter, and the older /watch/ path prefix that the API server still serves.
  for (const [form, path] of [
    ['?watch=true', '/api/v1/namespaces/apps/secrets'],
    ['the /watch/ path', '/api/v1/watch/namespaces/apps/secrets'],
  ] as const) {
    it(`masks every event of a Watch of secrets (${form}), the existing ones and those written while it runs`, async () => {
      const created = `watched-${path.includes('/watch/') ? 'path' : 'query'}`;
      const events: { type: string; object: V1Secret }[] = [];
      let ended: unknown = 'still running';
      const watch = new Watch(pepKubeConfig(stack, reader));
      const controller = await watch.watch(
        path,
        {},
        (type, object: V1Secret) => events.push({ type, object }),
        (error: unknown) => {
          ended = error;
        },
      );
      try {
        await eventually('the watch reports the existing Secret', () => events.some((event) => event.type === 'ADDED' && event.object.metadata?.name === 'db-credentials'));
        await stack.kube.kubectlOk(['create', '-f', '-'], { input: secretManifest(created, SECRET_VALUES) });
        await stack.kube.kubectlOk(['label', 'secret', created, '-n', 'apps', 'seen=yes']);
        await eventually('the watch reports the new Secret and its change', () =>
          ['ADDED', 'MODIFIED'].every((type) => events.some((event) => event.type === type && event.object.metadata?.name === created)),
        );
        assert.equal(ended, 'still running', 'the watch ran until it was stopped');
      } finally {
        controller.abort();
      }
      for (const event of events.filter((event) => ['db-credentials', created].includes(event.object.metadata?.name ?? ''))) {
        assertMasked(event.object, `watch ${event.type} ${event.object.metadata?.name}`);
      }
      assertNoSecretValue(events, 'the watch events');
    });
  }

  it('gives an informer (list, then watch) masked Secrets only', async () => {
    const informer = makeInformer(pepKubeConfig(stack, reader), '/api/v1/namespaces/apps/secrets', () => readerApi.listNamespacedSecret({ namespace: 'apps' }));
    const delivered: V1Secret[] = [];
    const errors: unknown[] = [];
    informer.on('add', (secret) => delivered.push(secret));
    informer.on('update', (secret) => delivered.push(secret));
    informer.on('error', (error) => errors.push(error));
    await informer.start();
    try {
      assert.ok(informer.get('db-credentials', 'apps'), 'the informer listed the existing Secret');
      await stack.kube.kubectlOk(['create', '-f', '-'], { input: secretManifest('informed', SECRET_VALUES) });
      await stack.kube.kubectlOk(['label', 'secret', 'informed', '-n', 'apps', 'seen=yes']);
      await eventually('the informer sees the new Secret and its change', () => informer.get('informed', 'apps')?.metadata?.labels?.seen === 'yes');
      // Stopping aborts its watch (an error event of its own): only errors before that count.
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
    for (const name of ['db-credentials', 'informed']) assertMasked(informer.get(name, 'apps'), `the informer's cache of ${name}`);
    assert.ok(delivered.some((secret) => secret.metadata?.name === 'informed'), 'the informer delivered the new Secret');
    for (const secret of delivered.filter((secret) => secret.data)) assertMasked(secret, `informer event of ${secret.metadata?.name}`);
    assertNoSecretValue(informer.list('apps'), "the informer's cache");
  });

  it('refuses createNamespacedPod of a privileged pod, naming why; the API server never sees it', async () => {
    const writer = await stack.token('agent-writer', ['writer']);
    const writerApi = pepKubeConfig(stack, writer).makeApiClient(CoreV1Api);
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'escape', namespace: 'apps' },
      spec: { containers: [{ name: 'shell', image: 'busybox:1.36', command: ['sleep', '3600'], securityContext: { privileged: true } }] },
    };
    const { code, status } = await apiFailure(writerApi.createNamespacedPod({ namespace: 'apps', body: pod }));
    assert.equal(code, 403);
    assert.equal(status.reason, 'Forbidden');
    assert.match(status.message, /^portcullis: denied by policy/);
    assert.match(status.message, /container "shell" is privileged/);

    const events = await stack.kube.settledAuditEvents();
    assert.equal(events.filter((event) => event.verb === 'create' && event.objectRef?.resource === 'pods' && event.user.username === 'portcullis-pep').length, 0, 'no pod create reached the API server through the PEP');
    const leftover = await stack.kube.kubectl(['get', 'pod', 'escape', '-n', 'apps']);
    assert.match(leftover.stderr, /NotFound/);
  });
});

describe('@kubernetes/client-node through the Kubernetes PEP while the PDP is away', () => {
  let stack: KubePepStack;

  before(async () => {
    stack = await startKubePepStack();
    await stack.kube.createNamespace('apps');
  });
  after(async () => {
    await stack?.close();
  });

  it('fails closed: a 503 ServiceUnavailable Status, and nothing reaches the API server', async () => {
    const readerApi = pepKubeConfig(stack, await stack.token('agent-reader', ['reader'])).makeApiClient(CoreV1Api);
    // The PEP works before the outage: the failure below is the outage's.
    await readerApi.listNamespacedConfigMap({ namespace: 'apps', labelSelector: 'probe=before-outage' });
    await stack.pdp.close();

    const { code, status } = await apiFailure(readerApi.listNamespacedConfigMap({ namespace: 'apps', labelSelector: 'probe=client-node-outage' }));
    assert.equal(code, 503);
    assert.equal(status.kind, 'Status');
    assert.equal(status.code, 503);
    assert.equal(status.reason, 'ServiceUnavailable');
    assert.match(status.message, /^portcullis: /);

    const events = await stack.kube.settledAuditEvents();
    assert.equal(events.filter((event) => event.requestURI.includes('probe%3Dbefore-outage')).length, 1, 'the request before the outage reached the API server');
    assert.equal(events.filter((event) => event.requestURI.includes('probe%3Dclient-node-outage')).length, 0, 'nothing reached the API server during the outage');
  });
});
