// The test API server itself: kubectl reaches it as the administrator, identities are the token
// file's, RBAC holds for others, a pod is admitted in a namespace with its default service
// account, and the audit log records every request with who made it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestKubeApiServer, type TestKubeApiServer } from './kube-apiserver.ts';

let kube: TestKubeApiServer;

before(async () => {
  kube = await startTestKubeApiServer({ identities: { nobody: { user: 'nobody', groups: [] } } });
});
after(async () => {
  await kube?.stop();
});

test('the administrator creates a namespace and a pod, and the audit log names who made each request', async () => {
  await kube.createNamespace('apps');
  await kube.kubectlOk(['run', 'web', '-n', 'apps', '--image=nginx:1.27', '--restart=Never']);
  const phase = await kube.kubectlOk(['get', 'pod', 'web', '-n', 'apps', '-o', 'jsonpath={.status.phase}']);
  assert.equal(phase, 'Pending');
  const events = await kube.settledAuditEvents();
  const create = events.find((event) => event.verb === 'create' && event.objectRef?.resource === 'pods' && event.objectRef.name === 'web');
  assert.ok(create, 'the pod create is in the audit log');
  assert.equal(create.user.username, 'kube-admin');
  assert.equal(create.responseStatus?.code, 201);
});

test('an identity without RBAC bindings is forbidden', async () => {
  const config = kube.writeKubeconfig('nobody', { token: kube.tokenOf('nobody') });
  const result = await kube.kubectl(['get', 'pods', '-n', 'apps'], { kubeconfig: config });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /forbidden/i);
});

test('the PEP identity may impersonate, and the audit log shows the impersonated user', async () => {
  const config = kube.writeKubeconfig('pep', { token: kube.pepToken });
  const result = await kube.kubectl(['get', 'pods', '-n', 'apps', '--as', 'someone', '--as-group', 'team-a'], { kubeconfig: config });
  assert.match(result.stderr, /"someone" cannot list resource "pods"/);
  const events = await kube.settledAuditEvents();
  const listed = events.find((event) => event.verb === 'list' && event.impersonatedUser?.username === 'someone');
  assert.ok(listed, 'the impersonated list is in the audit log');
  assert.equal(listed.user.username, 'portcullis-pep');
  assert.deepEqual(listed.impersonatedUser?.groups, ['team-a', 'system:authenticated']);
});
