// exec with impersonation on: the upgrade reaches the API server as the principal the PDP
// verified, so the cluster's own RBAC for pods/exec applies as well, and its audit log names who.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';
import { createBoundPod, startStandInKubelet, type StandInKubelet } from './stand-in-kubelet.ts';
import { upgradeTestPolicyBundle } from './upgrade-test-policy.ts';

let stack: KubePepStack;
let kubelet: StandInKubelet;

before(async () => {
  stack = await startKubePepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: upgradeTestPolicyBundle() }, pepEnv: { PORTCULLIS_PEP_KUBERNETES_IMPERSONATE: 'true' } });
  kubelet = await startStandInKubelet(stack.kube);
  await stack.kube.createNamespace('apps');
  await createBoundPod(stack.kube, kubelet, 'apps', 'web');
});
after(async () => {
  await kubelet?.stop();
  await stack?.close();
});

const PROTOCOLS: readonly { name: string; env: Record<string, string> }[] = [
  { name: 'WebSocket', env: {} },
  { name: 'SPDY/3.1', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
];

for (const protocol of PROTOCOLS) {
  it(`opens an exec over ${protocol.name} as the principal: the cluster's RBAC refuses the principal until bound, then it runs as them`, async () => {
    const subject = `agent-exec-${protocol.name.replace(/\W/g, '').toLowerCase()}`;
    const group = `exec-${subject}`;
    const token = await stack.token(subject, [group, 'writer']);
    const args = ['exec', '-n', 'apps', 'web', '--', 'sh', '-c', `echo as-${subject}`];
    const unbound = await stack.kubectl(token, args, { env: protocol.env });
    assert.notEqual(unbound.code, 0);
    assert.match(unbound.stderr, new RegExp(`User "portcullis:${subject}" cannot get resource "pods"`));

    await stack.kube.kubectlOk(['create', 'role', `exec-${subject}`, '-n', 'apps', '--verb=get,create', '--resource=pods,pods/exec']);
    await stack.kube.kubectlOk(['create', 'rolebinding', `exec-${subject}`, '-n', 'apps', `--role=exec-${subject}`, `--group=portcullis:${group}`]);
    const ran = await eventually('the exec runs once its group is bound', async () => {
      const result = await stack.kubectl(token, args, { env: protocol.env });
      return result.code === 0 ? result : undefined;
    });
    assert.equal(ran.stdout, `ran: sh -c echo as-${subject}\r\n`);
    const execs = (await stack.kube.settledAuditEvents()).filter((event) => event.stage === 'ResponseComplete' && event.objectRef?.subresource === 'exec' && event.requestURI.includes(`as-${subject}`));
    assert.ok(execs.length >= 1);
    for (const event of execs) {
      assert.equal(event.user.username, 'portcullis-pep');
      assert.equal(event.impersonatedUser?.username, `portcullis:${subject}`);
    }
  });
}
