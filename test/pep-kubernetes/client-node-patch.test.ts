// Patches from @kubernetes/client-node through the PEP, in each of the client's patch content
// types (JSON Patch, its default; merge; strategic merge; server-side apply): each is decided on
// the object it would store, resolved by the PEP from the object the API server holds. One that
// would make a Deployment's pods escape their container is denied and never reaches the API
// server; a harmless one is held for approval and, run again once approved, is stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { apiFailure, pepKubeConfig } from './client-node-config.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

/** The Deployment as the administrator created it: one container named `web`. */
const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'apps' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
  },
};

async function vote(stack: KubePepStack, approvalId: string): Promise<void> {
  const approver = await stack.consoleToken('alice', ['approver']);
  const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict: 'approve', reason: 'image bump' }),
  });
  assert.equal(response.status, 200, await response.text());
}

describe('client-node patches through the Kubernetes PEP, decided on the resolved object', () => {
  let stack: KubePepStack;
  let apps: AppsV1Api;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '1' } });
    await stack.kube.createNamespace('apps');
    await stack.kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(deployment) });
    apps = pepKubeConfig(stack, await stack.token('agent-writer', ['writer'])).makeApiClient(AppsV1Api);
  });
  after(async () => {
    await stack?.close();
  });

  /** Patches that reached the API server through the PEP. */
  const forwardedPatches = async (): Promise<number> =>
    (await stack.kube.settledAuditEvents()).filter((event) => event.verb === 'patch' && event.objectRef?.resource === 'deployments' && event.user.username === 'portcullis-pep').length;

  /** The Deployment's pod template as the API server stores it. */
  const storedTemplate = async (): Promise<unknown> => JSON.parse(await stack.kube.kubectlOk(['get', 'deployment', 'web', '-n', 'apps', '-o', 'jsonpath={.spec.template.spec}']));

  const escapes: { name: string; patch: () => Promise<V1Deployment>; reason: RegExp }[] = [
    {
      // The patch names no container: only the object it applies to says the first one is `web`.
      name: 'a JSON Patch (client-node\'s default) adding a privileged security context',
      patch: () => apps.patchNamespacedDeployment({ name: 'web', namespace: 'apps', body: [{ op: 'add', path: '/spec/template/spec/containers/0/securityContext', value: { privileged: true } }] }),
      reason: /container "web" is privileged/,
    },
    {
      name: 'a merge patch sharing the node\'s network',
      patch: () => apps.patchNamespacedDeployment({ name: 'web', namespace: 'apps', body: { spec: { template: { spec: { hostNetwork: true } } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      reason: /the pod shares the node's network namespace/,
    },
    {
      // Merged by name into the existing container: the stored container is `web`, privileged.
      name: 'a strategic merge patch making the existing container privileged',
      patch: () =>
        apps.patchNamespacedDeployment(
          { name: 'web', namespace: 'apps', body: { spec: { template: { spec: { containers: [{ name: 'web', securityContext: { privileged: true } }] } } } } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      reason: /container "web" is privileged/,
    },
    {
      name: 'a strategic merge patch adding a hostPath volume',
      patch: () =>
        apps.patchNamespacedDeployment(
          { name: 'web', namespace: 'apps', body: { spec: { template: { spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }] } } } } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        ),
      reason: /the pod mounts the node's "\/"/,
    },
    {
      name: 'a server-side apply adding a capability to the existing container',
      patch: () =>
        apps.patchNamespacedDeployment(
          {
            name: 'web',
            namespace: 'apps',
            fieldManager: 'client-node-test',
            force: true,
            body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'apps' }, spec: { template: { spec: { containers: [{ name: 'web', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] } } } },
          },
          setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
        ),
      reason: /container "web" adds capability SYS_ADMIN/,
    },
  ];

  for (const { name, patch, reason } of escapes) {
    it(`denies ${name}, and it never reaches the API server`, async () => {
      const before = await storedTemplate();
      const { code, status } = await apiFailure(patch());
      assert.equal(code, 403);
      assert.equal(status.reason, 'Forbidden');
      assert.match(status.message, /^portcullis: denied by policy/);
      assert.match(status.message, reason);
      assert.equal(await forwardedPatches(), 0, 'no patch reached the API server');
      assert.deepEqual(await storedTemplate(), before, 'the stored Deployment is unchanged');
    });
  }

  it('holds a harmless strategic merge patch for approval, showing the approver the resolved Deployment; run again once approved, it is stored once', async () => {
    const bump = () =>
      apps.patchNamespacedDeployment(
        { name: 'web', namespace: 'apps', body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    const storedVersion = await stack.kube.kubectlOk(['get', 'deployment', 'web', '-n', 'apps', '-o', 'jsonpath={.metadata.resourceVersion}']);
    const held = await apiFailure(bump());
    assert.equal(held.code, 403);
    assert.equal(held.status.reason, 'Forbidden');
    assert.match(held.status.message, /^portcullis: held for approval/);
    assert.match(held.status.message, /Run the same command again once approval [0-9a-f-]{36} is granted/);
    const approvalId = /approval ([0-9a-f-]{36})/.exec(held.status.message)?.[1];
    assert.ok(approvalId, held.status.message);
    assert.equal(await forwardedPatches(), 0, 'the held patch did not reach the API server');

    // What the approver is asked about: the Deployment as the patch would leave it, at the version read.
    const approver = await stack.consoleToken('alice', ['approver']);
    const view = (await (await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}`, { headers: { authorization: `Bearer ${approver}` } })).json()) as {
      approval: { action: { type: string; method: string; object?: V1Deployment } };
    };
    assert.equal(view.approval.action.type, 'kubernetes');
    assert.equal(view.approval.action.method, 'PATCH');
    const resolved = view.approval.action.object;
    assert.equal(resolved?.metadata?.resourceVersion, storedVersion);
    assert.deepEqual(
      resolved?.spec?.template.spec?.containers.map((container) => [container.name, container.image]),
      [['web', 'nginx:1.28']],
    );
    assert.deepEqual(resolved?.spec?.selector, deployment.spec.selector, 'the rest of the stored Deployment is in the resolved object');

    await vote(stack, approvalId);
    const patched = await bump();
    assert.equal(patched.spec?.template.spec?.containers[0]?.image, 'nginx:1.28');
    assert.equal(await stack.kube.kubectlOk(['get', 'deployment', 'web', '-n', 'apps', '-o', 'jsonpath={.spec.template.spec.containers[*].image}']), 'nginx:1.28');
    assert.equal(await forwardedPatches(), 1, 'the approved patch reached the API server once');
  });
});
