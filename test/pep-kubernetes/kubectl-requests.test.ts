// The real kubectl through the PEP to the real API server: an allowed read reaches it (the API
// server's audit log shows it), a denied request never does and kubectl prints the PEP's Status.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

let stack: KubePepStack;

before(async () => {
  stack = await startKubePepStack();
  await stack.kube.createNamespace('apps');
  await stack.kube.kubectlOk(['run', 'web', '-n', 'apps', '--image=nginx:1.27', '--restart=Never']);
});
after(async () => {
  await stack?.close();
});

test('an allowed kubectl get goes through the PEP and reaches the API server as the PEP', async () => {
  const token = await stack.token('agent-reader', ['reader']);
  const result = await stack.kubectl(token, ['get', 'pods', '-n', 'apps', '-o', 'name']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'pod/web');
  const events = await stack.kube.settledAuditEvents();
  const listed = events.find((event) => event.verb === 'list' && event.requestURI.startsWith('/api/v1/namespaces/apps/pods'));
  assert.ok(listed, 'the list reached the API server');
  assert.equal(listed.user.username, 'portcullis-pep');
});

test('a denied kubectl delete is answered with a Forbidden Status and never reaches the API server', async () => {
  const token = await stack.token('agent-reader', ['reader']);
  const result = await stack.kubectl(token, ['delete', 'namespace', 'apps', '--wait=false']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /Error from server \(Forbidden\): portcullis: denied by policy/);
  const events = await stack.kube.settledAuditEvents();
  assert.equal(events.filter((event) => event.verb === 'delete').length, 0, 'no delete reached the API server');
  assert.equal(await stack.kube.kubectlOk(['get', 'namespace', 'apps', '-o', 'name']), 'namespace/apps\n');
});
