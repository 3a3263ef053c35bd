// Writes through the Kubernetes PEP with the real kubectl and the starter policy: every way kubectl
// writes (create, replace, patch --type strategic|merge|json, apply client-side and server-side,
// set image) is decided on the object as it will be stored, so a patch that turns a workload
// privileged, onto the node's network or onto a hostPath is denied and never reaches the API
// server; an approved patch runs once, stores what was approved, and an approval does not carry
// over to an object that changed since.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

const NAMESPACE = 'apps';

const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NAMESPACE },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'api', image: 'nginx:1.27' }] } },
  },
});

describe('kubectl writes through the PEP', () => {
  let stack: KubePepStack;
  let writer: string;

  const vote = async (approvalId: string): Promise<void> => {
    const approver = await stack.consoleToken('alice', ['approver']);
    const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve', reason: 'ticket 13' }),
    });
    assert.equal(response.status, 200, await response.text());
  };
  const approvalIn = (stderr: string): string => {
    const id = /approval ([0-9a-f-]{36})/.exec(stderr)?.[1];
    assert.ok(id, stderr);
    return id;
  };
  const writesReaching = async (name: string): Promise<string[]> =>
    (await stack.kube.settledAuditEvents())
      .filter((event) => ['create', 'update', 'patch'].includes(event.verb) && event.objectRef?.name === name && event.stage === 'ResponseComplete')
      .map((event) => `${event.verb} ${event.responseStatus?.code}`);
  const storedDeployment = async (name: string) =>
    JSON.parse(await stack.kube.kubectlOk(['get', 'deployment', name, '-n', NAMESPACE, '-o', 'json'])) as {
      metadata: { annotations?: Record<string, string> };
      spec: { template: { spec: { containers: { name: string; image: string; securityContext?: unknown }[]; hostNetwork?: boolean; volumes?: unknown[] } } };
    };

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '0' } });
    await stack.kube.createNamespace(NAMESPACE);
    writer = await stack.token('agent-writer', ['writer']);
    await stack.kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(deployment('guarded')) });
  });
  after(() => stack?.close());

  it('denies every kind of write that would make a workload escape its container, and none reaches the API server', async () => {
    const patch = (type: string, body: unknown) => ['patch', 'deployment', 'guarded', '-n', NAMESPACE, '--type', type, '-p', JSON.stringify(body)];
    const privileged = { ...deployment('guarded') };
    privileged.spec.template.spec.containers = [{ name: 'api', image: 'nginx:1.27', securityContext: { privileged: true } } as never];
    const attempts: { args: string[]; input?: string; reason: RegExp }[] = [
      { args: patch('strategic', { spec: { template: { spec: { containers: [{ name: 'api', securityContext: { privileged: true } }] } } } }), reason: /container "api" is privileged/ },
      { args: patch('merge', { spec: { template: { spec: { hostNetwork: true } } } }), reason: /shares the node's network namespace/ },
      { args: patch('json', [{ op: 'add', path: '/spec/template/spec/volumes', value: [{ name: 'root', hostPath: { path: '/' } }] }]), reason: /mounts the node's "\/"/ },
      { args: ['apply', '--server-side', '-f', '-'], input: JSON.stringify({ ...deployment('guarded'), spec: { ...deployment('guarded').spec, template: { ...deployment('guarded').spec.template, spec: { hostPID: true, containers: [{ name: 'api', image: 'nginx:1.27' }] } } } }), reason: /shares the node's process namespace/ },
      { args: ['apply', '-f', '-'], input: JSON.stringify(privileged), reason: /container "api" is privileged/ },
      { args: ['replace', '-f', '-'], input: JSON.stringify(privileged), reason: /container "api" is privileged/ },
    ];
    for (const attempt of attempts) {
      const result = await stack.kubectl(writer, attempt.args, attempt.input === undefined ? {} : { input: attempt.input });
      assert.notEqual(result.code, 0, attempt.args.join(' '));
      assert.match(result.stderr, /Forbidden/, attempt.args.join(' '));
      assert.match(result.stderr, attempt.reason, `${attempt.args.join(' ')}: ${result.stderr}`);
    }
    const created = await stack.kubectl(writer, ['create', '-f', '-'], { input: JSON.stringify({ ...privileged, metadata: { name: 'escaping', namespace: NAMESPACE } }) });
    assert.match(created.stderr, /container "api" is privileged/);

    assert.deepEqual(await writesReaching('guarded'), ['create 201'], 'only the administrator\'s create reached the API server');
    assert.deepEqual(await writesReaching('escaping'), []);
    const stored = await storedDeployment('guarded');
    assert.deepEqual(stored.spec.template.spec.containers.map((container) => container.securityContext), [undefined]);
    assert.equal(stored.spec.template.spec.hostNetwork, undefined);
    assert.equal(stored.spec.template.spec.volumes, undefined);
  });

  it('denies kubectl debug --profile=sysadmin (a privileged ephemeral container added through the subresource) before it reaches the API server', async () => {
    await stack.kube.kubectlOk(['run', 'target', '-n', NAMESPACE, '--image=nginx:1.27', '--restart=Never']);
    const result = await stack.kubectl(writer, ['debug', 'target', '-n', NAMESPACE, '--image=busybox:1.36', '--container=debugger', '--profile=sysadmin']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /container "debugger" is privileged/);
    assert.deepEqual(await writesReaching('target'), ['create 201']);
    assert.equal(await stack.kube.kubectlOk(['get', 'pod', 'target', '-n', NAMESPACE, '-o', 'jsonpath={.spec.ephemeralContainers}']), '');
  });

  it('holds a harmless patch for approval; run again once approved it stores exactly that, once', async () => {
    await stack.kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(deployment('rollout')) });
    const setImage = ['set', 'image', 'deployment/rollout', '-n', NAMESPACE, 'api=nginx:1.28'];
    const held = await stack.kubectl(writer, setImage);
    assert.notEqual(held.code, 0);
    assert.match(held.stderr, /held for approval/);
    await vote(approvalIn(held.stderr));
    const approved = await stack.kubectl(writer, setImage);
    assert.equal(approved.code, 0, approved.stderr);
    assert.deepEqual((await storedDeployment('rollout')).spec.template.spec.containers.map((container) => container.image), ['nginx:1.28']);
    assert.deepEqual(await writesReaching('rollout'), ['create 201', 'patch 200']);
  });

  it('does not carry an approval over to an object that changed after it was given: the re-run is held afresh', async () => {
    await stack.kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(deployment('moving')) });
    const patch = ['patch', 'deployment', 'moving', '-n', NAMESPACE, '--type', 'merge', '-p', JSON.stringify({ spec: { replicas: 2 } })];
    const held = await stack.kubectl(writer, patch);
    const approvalId = approvalIn(held.stderr);
    await vote(approvalId);
    // Someone changes the object after the approver looked at it.
    await stack.kube.kubectlOk(['annotate', 'deployment', 'moving', '-n', NAMESPACE, 'changed-by=someone-else']);
    const rerun = await stack.kubectl(writer, patch);
    assert.notEqual(rerun.code, 0);
    assert.match(rerun.stderr, /held for approval/);
    assert.notEqual(approvalIn(rerun.stderr), approvalId);
    assert.deepEqual(await writesReaching('moving'), ['create 201', 'patch 200'], 'only the annotate (a patch by the administrator) reached the API server');
  });
});
