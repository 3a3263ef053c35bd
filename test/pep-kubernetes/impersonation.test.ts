// With impersonation on, the API server is asked as the principal the PDP verified (its subject
// and roles, prefixed), so the cluster's own RBAC applies too and its audit log names who it was.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

describe('impersonating the principal', () => {
  let stack: KubePepStack;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_KUBERNETES_IMPERSONATE: 'true', PORTCULLIS_PEP_KUBERNETES_IMPERSONATE_GROUPS: 'portcullis:via-pep' } });
    await stack.kube.createNamespace('apps');
  });
  after(() => stack?.close());

  it('asks as portcullis:<sub> with the roles as groups: the cluster RBAC refuses until bound, and the audit log shows the impersonation', async () => {
    const reader = await stack.token('agent-imp', ['reader']);
    const unbound = await stack.kubectl(reader, ['get', 'configmaps', '-n', 'apps']);
    assert.notEqual(unbound.code, 0);
    // The API server's own answer, relayed: its RBAC saw the principal, not the PEP.
    assert.match(unbound.stderr, /User "portcullis:agent-imp" cannot list resource "configmaps"/);

    // Not the built-in `view`: its rules are aggregated by the controller manager, which does not run here.
    await stack.kube.kubectlOk(['create', 'role', 'configmap-reader', '-n', 'apps', '--verb=get,list,watch', '--resource=configmaps']);
    await stack.kube.kubectlOk(['create', 'rolebinding', 'readers', '-n', 'apps', '--role=configmap-reader', '--group=portcullis:reader']);
    // The API server's RBAC takes the new binding in a moment after it is stored.
    await eventually('the reader lists configmaps once its group is bound', async () => (await stack.kubectl(reader, ['get', 'configmaps', '-n', 'apps', '-o', 'name'])).code === 0);

    const events = await stack.kube.settledAuditEvents();
    const listed = events.filter((event) => event.verb === 'list' && event.objectRef?.namespace === 'apps' && event.objectRef.resource === 'configmaps');
    assert.ok(listed.length >= 2);
    for (const event of listed) {
      assert.equal(event.user.username, 'portcullis-pep');
      assert.equal(event.impersonatedUser?.username, 'portcullis:agent-imp');
      assert.deepEqual([...(event.impersonatedUser?.groups ?? [])].sort(), ['portcullis:reader', 'portcullis:via-pep', 'system:authenticated']);
    }
    assert.deepEqual([...new Set(listed.map((event) => event.responseStatus?.code))].sort(), [200, 403]);
  });

  it("never forwards the client's own token: the API server only ever sees the PEP's credential", async () => {
    const reader = await stack.token('agent-imp', ['reader']);
    await stack.kubectl(reader, ['get', 'configmaps', '-n', 'apps']);
    const events = await stack.kube.settledAuditEvents();
    const users = new Set(events.filter((event) => event.objectRef?.namespace === 'apps' && event.impersonatedUser).map((event) => event.user.username));
    assert.deepEqual([...users], ['portcullis-pep']);
    // A client token the API server itself would accept is still only the caller's token to the PDP.
    const adminDirect = await stack.request({ target: '/api/v1/namespaces/apps/secrets', token: stack.kube.adminToken });
    assert.equal(adminDirect.status, 401);
  });
});
