// The write resolver in front of a real kube-apiserver with the real kubectl: for every way
// kubectl writes (create, replace, patch --type json|merge|strategic, apply client-side and
// server-side, set image) the object the resolver hands to policy is the object the API server
// stores; a write whose resolved object is refused never reaches the API server; a change made
// between the resolver's read and the forwarded write makes the API server refuse the write
// (409) instead of storing something policy did not see. A small HTTP proxy stands where the
// PEP's pipeline calls the resolver (the PEP's own suites drive it through policy).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestKubeApiServer, type TestKubeApiServer } from '../../../../test/support/kube-apiserver.ts';
import type { KubeRequest } from '../../src/request/kube-request.ts';
import { HttpsKubeUpstream } from '../../src/upstream/https-kube-upstream.ts';
import type { KubeUpstream } from '../../src/upstream/kube-upstream.ts';
import { isJsonObject, type JsonValue } from '../../src/writes/json-value.ts';
import { OpenApiPatchSchemas } from '../../src/writes/openapi-patch-schemas.ts';
import { createWriteResolver } from '../../src/writes/resolve-write.ts';
import { fieldOf, type PatchSchema, schemaForKind } from '../../src/writes/strategic-merge-schema.ts';

interface Resolution {
  method: string;
  path: string;
  contentType: string | undefined;
  object: JsonValue | undefined;
}

let kube: TestKubeApiServer;
let proxy: Server;
let upstream: KubeUpstream;
let kubeconfig = '';
const resolutions: Resolution[] = [];
/** Stands in for policy: a reason refuses the write. */
let decide: (object: JsonValue | undefined) => Promise<string | undefined> = async () => undefined;

function pepUpstream(): KubeUpstream {
  return new HttpsKubeUpstream({ url: new URL(kube.url), ca: readFileSync(kube.caFile, 'utf8'), credential: { kind: 'token', token: () => kube.pepToken }, connectTimeoutMs: 5000 });
}

before(async () => {
  kube = await startTestKubeApiServer();
  await kube.createNamespace('team');
  upstream = pepUpstream();
  const resolveWrite = createWriteResolver();
  proxy = createServer(async (client, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of client) chunks.push(chunk as Buffer);
    const [path = '', rawQuery = ''] = (client.url ?? '').split(/\?(.*)/s);
    const request: KubeRequest = { method: client.method ?? 'GET', path, rawQuery, headers: client.headers, body: Buffer.concat(chunks) };
    const headers: Record<string, string> = {};
    for (const name of ['accept', 'content-type', 'user-agent']) if (typeof client.headers[name] === 'string') headers[name] = client.headers[name] as string;
    let body = request.body;
    if (['POST', 'PUT', 'PATCH'].includes(request.method)) {
      const resolution = await resolveWrite(request, upstream, { bodyLimit: 3 * 1024 * 1024 });
      if ('refusal' in resolution) {
        response.writeHead(resolution.refusal.code, { 'content-type': 'application/json' }).end(JSON.stringify(resolution.refusal));
        return;
      }
      resolutions.push({ method: request.method, path, contentType: resolution.contentType, object: resolution.object as JsonValue });
      const reason = await decide(resolution.object as JsonValue);
      if (reason !== undefined) {
        response.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: reason }));
        return;
      }
      body = resolution.forwardBody;
      if (resolution.contentType) headers['content-type'] = resolution.contentType;
    }
    const answer = await upstream.request({ method: request.method, target: client.url ?? '', headers: { ...headers, 'content-length': String(body.length) }, body });
    response.writeHead(answer.statusCode ?? 502, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') });
    answer.pipe(response);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  kubeconfig = kube.writeKubeconfig('through-writes', { token: 'unused', server: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
});

after(async () => {
  upstream?.close();
  proxy?.closeAllConnections();
  proxy?.close();
  await kube?.stop();
});

beforeEach(() => {
  resolutions.length = 0;
  decide = async () => undefined;
});

const viaPep = (args: string[], input?: string) => kube.kubectl(args, { kubeconfig, ...(input === undefined ? {} : { input }) });
const viaPepOk = async (args: string[], input?: string) => {
  const result = await viaPep(args, input);
  assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
};
const stored = async (kind: string, name: string) => JSON.parse(await kube.kubectlOk(['get', kind, name, '-n', 'team', '-o', 'json'])) as JsonValue;
const lastObject = () => {
  const last = resolutions.at(-1);
  assert.ok(last, 'a write was resolved');
  return last.object;
};

/** A small deterministic generator (mulberry32), so a failing round can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every field of the table is in the served schema with the same strategic merge and apply metadata. */
function assertSameMetadata(table: PatchSchema, served: PatchSchema, at: string): void {
  for (const [name, field] of Object.entries(table)) {
    const other = fieldOf(served, name);
    assert.ok(other, `${at}.${name} is in the served schema`);
    for (const key of ['merge', 'mergeKey', 'replace', 'listType', 'listMapKeys'] as const) {
      if (field[key] !== undefined) assert.deepEqual(other[key], field[key], `${at}.${name} ${key}`);
    }
    if (field.schema) {
      assert.ok(other.schema, `${at}.${name} has a type`);
      assertSameMetadata(field.schema, other.schema, `${at}.${name}`);
    }
  }
}

/** Server-maintained fields the resolver cannot know (and policy need not judge). */
const SERVER_FIELDS = new Set(['resourceVersion', 'managedFields', 'generation', 'uid', 'creationTimestamp']);

/**
 * Every field the resolver resolved is stored with that value; lists hold the same elements in
 * the same order. An empty list or map is stored as absent (the API server omits empty fields).
 */
function assertStoredAsResolved(resolved: JsonValue | undefined, actual: JsonValue, at = '$'): void {
  const empty = (Array.isArray(resolved) && resolved.length === 0) || (isJsonObject(resolved) && Object.keys(resolved).length === 0);
  if (empty && actual === undefined) return;
  if (Array.isArray(resolved)) {
    assert.ok(Array.isArray(actual), `${at}: stored is not a list`);
    assert.equal(actual.length, resolved.length, `${at}: stored list length`);
    resolved.forEach((item, index) => assertStoredAsResolved(item, actual[index] as JsonValue, `${at}[${index}]`));
  } else if (isJsonObject(resolved)) {
    assert.ok(isJsonObject(actual), `${at}: stored is not an object`);
    for (const key of Object.keys(resolved)) {
      if (/^\$[^.]*\.metadata$/.test(at) && SERVER_FIELDS.has(key)) continue;
      if (key === 'status') continue;
      assertStoredAsResolved(resolved[key] as JsonValue, actual[key] as JsonValue, `${at}.${key}`);
    }
  } else {
    assert.deepEqual(actual, resolved, at);
  }
}

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'team', labels: { app: 'web' } },
  spec: {
    // No token volume injected by admission: what is stored is what was sent.
    automountServiceAccountToken: false,
    containers: [
      { name: 'app', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      { name: 'side', image: 'busybox:1.36', command: ['sleep', '3600'] },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
  },
};

const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'team' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'api' } },
    template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'nginx:1.27', env: [{ name: 'MODE', value: 'a' }] }] } },
  },
};

describe('the write resolver against a real API server', () => {
  it('kubectl create and replace: the object resolved is the object stored', async () => {
    await viaPepOk(['create', '-f', '-'], JSON.stringify(POD));
    assert.equal(resolutions.at(-1)?.method, 'POST');
    assertStoredAsResolved(lastObject(), await stored('pod', 'web'));

    const current = (await stored('pod', 'web')) as { metadata: { labels: Record<string, string> } };
    current.metadata.labels.tier = 'front';
    await viaPepOk(['replace', '-f', '-'], JSON.stringify(current));
    assert.equal(resolutions.at(-1)?.method, 'PUT');
    assertStoredAsResolved(lastObject(), await stored('pod', 'web'));
  });

  it('kubectl patch --type strategic, merge and json: the object resolved is the object stored', async () => {
    await viaPepOk(['patch', 'pod', 'web', '-n', 'team', '--type', 'strategic', '-p', JSON.stringify({ spec: { containers: [{ name: 'app', image: 'nginx:1.28' }], activeDeadlineSeconds: 3600 }, metadata: { finalizers: ['example.com/keep'] } })]);
    assert.equal(resolutions.at(-1)?.contentType, 'application/strategic-merge-patch+json');
    assertStoredAsResolved(lastObject(), await stored('pod', 'web'));

    await viaPepOk(['patch', 'pod', 'web', '-n', 'team', '--type', 'merge', '-p', JSON.stringify({ metadata: { labels: { app: null, owner: 'team' } } })]);
    assert.equal(resolutions.at(-1)?.contentType, 'application/merge-patch+json');
    assertStoredAsResolved(lastObject(), await stored('pod', 'web'));

    await viaPepOk(['patch', 'pod', 'web', '-n', 'team', '--type', 'json', '-p', JSON.stringify([
      { op: 'add', path: '/metadata/labels/x~1y', value: 'z' },
      { op: 'replace', path: '/spec/containers/1/image', value: 'busybox:1.38' },
      { op: 'remove', path: '/metadata/finalizers/0' },
    ])]);
    assert.equal(resolutions.at(-1)?.contentType, 'application/json-patch+json');
    assertStoredAsResolved(lastObject(), await stored('pod', 'web'));
  });

  it('strategic merge directives resolve as the API server applies them', async () => {
    await viaPepOk(['create', '-f', '-'], JSON.stringify({ ...DEPLOYMENT, metadata: { name: 'directives', namespace: 'team', finalizers: ['a.example/x', 'b.example/y'] } }));
    await viaPepOk(['patch', 'deployment', 'directives', '-n', 'team', '--type', 'strategic', '-p', JSON.stringify({
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example/x'] },
      spec: {
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'second' }, { name: 'api' }],
            containers: [{ name: 'second', image: 'busybox:1.36', env: [{ name: 'K', value: 'v' }] }, { name: 'api', env: [{ name: 'MODE', $patch: 'delete' }] }],
            volumes: [{ name: 'cache', emptyDir: {} }],
          },
        },
      },
    })]);
    assertStoredAsResolved(lastObject(), await stored('deployment', 'directives'));
    await viaPepOk(['patch', 'deployment', 'directives', '-n', 'team', '--type', 'strategic', '-p', JSON.stringify({ spec: { template: { spec: { volumes: [{ name: 'cache', $patch: 'delete' }], containers: [{ name: 'only', image: 'nginx' }, { $patch: 'replace' }] } } } })]);
    assertStoredAsResolved(lastObject(), await stored('deployment', 'directives'));
  });

  it('kubectl apply (client-side, a strategic merge patch with $setElementOrder) and kubectl set image', async () => {
    await viaPepOk(['apply', '-f', '-'], JSON.stringify(DEPLOYMENT));
    assert.equal(resolutions.at(-1)?.method, 'POST');
    const changed = structuredClone(DEPLOYMENT);
    changed.spec.template.spec.containers = [
      { name: 'sidecar', image: 'busybox:1.36', env: [] },
      { name: 'api', image: 'nginx:1.28', env: [{ name: 'MODE', value: 'b' }] },
    ];
    await viaPepOk(['apply', '-f', '-'], JSON.stringify(changed));
    assert.equal(resolutions.at(-1)?.contentType, 'application/strategic-merge-patch+json');
    assertStoredAsResolved(lastObject(), await stored('deployment', 'api'));

    await viaPepOk(['set', 'image', 'deployment/api', '-n', 'team', 'api=nginx:1.29']);
    assertStoredAsResolved(lastObject(), await stored('deployment', 'api'));
    const containers = (lastObject() as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } }).spec.template.spec.containers;
    assert.deepEqual(containers.map((container) => `${container.name}=${container.image}`), ['sidecar=busybox:1.36', 'api=nginx:1.29']);
  });

  it('kubectl apply --server-side: a create when absent, the applied configuration over the object when present', async () => {
    const applied = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team' }, data: { a: '1' } };
    await viaPepOk(['apply', '--server-side', '-f', '-'], JSON.stringify(applied));
    assert.equal(resolutions.at(-1)?.contentType, 'application/apply-patch+yaml');
    assertStoredAsResolved(lastObject(), await stored('configmap', 'settings'));

    await viaPepOk(['create', '-f', '-'], JSON.stringify({ ...POD, metadata: { name: 'ssa', namespace: 'team' } }));
    await viaPepOk(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ssa', namespace: 'team', labels: { applied: 'yes' } },
      spec: { containers: [{ name: 'app', image: 'nginx:1.28' }, { name: 'side', image: 'busybox:1.36' }] },
    }));
    const object = lastObject();
    assertStoredAsResolved(object, await stored('pod', 'ssa'));
    // The containers the apply did not mention were kept, merged by name.
    assert.deepEqual((object as { spec: { containers: { name: string; image: string }[] } }).spec.containers.map((container) => `${container.name}=${container.image}`), ['app=nginx:1.28', 'side=busybox:1.36']);
  });

  it('subresource writes resolve on the subresource\'s own object: kubectl scale (Scale), kubectl debug (a pod\'s ephemeral containers), kubectl label and rollout restart', async () => {
    await viaPepOk(['create', '-f', '-'], JSON.stringify({ ...DEPLOYMENT, metadata: { name: 'sub', namespace: 'team' } }));
    await viaPepOk(['scale', 'deployment/sub', '-n', 'team', '--replicas=3']);
    assert.match(resolutions.at(-1)?.path ?? '', /\/deployments\/sub\/scale$/);
    assert.equal((lastObject() as { kind: string; spec: { replicas: number } }).kind, 'Scale');
    assert.equal((lastObject() as { spec: { replicas: number } }).spec.replicas, 3);
    assert.equal(((await stored('deployment', 'sub')) as { spec: { replicas: number } }).spec.replicas, 3);

    await viaPepOk(['rollout', 'restart', 'deployment/sub', '-n', 'team']);
    assertStoredAsResolved(lastObject(), await stored('deployment', 'sub'));
    await viaPepOk(['label', 'deployment/sub', '-n', 'team', 'tier=backend']);
    assertStoredAsResolved(lastObject(), await stored('deployment', 'sub'));

    await viaPepOk(['create', '-f', '-'], JSON.stringify({ ...POD, metadata: { name: 'debugged', namespace: 'team' } }));
    await viaPepOk(['debug', 'debugged', '-n', 'team', '--image=busybox:1.36', '--container=debugger', '--profile=sysadmin']);
    assert.match(resolutions.at(-1)?.path ?? '', /\/pods\/debugged\/ephemeralcontainers$/);
    const debugged = lastObject() as { spec: { ephemeralContainers: { name: string; securityContext?: { privileged?: boolean } }[] } };
    assert.deepEqual(debugged.spec.ephemeralContainers.map((container) => [container.name, container.securityContext?.privileged]), [['debugger', true]]);
    assertStoredAsResolved(lastObject(), await stored('pod', 'debugged'));
  });

  it('agrees with the API server on generated strategic merge patches (each dry-run on the same object)', async () => {
    const base = structuredClone(DEPLOYMENT);
    base.metadata = { name: 'generated', namespace: 'team', finalizers: ['a.example/one', 'b.example/two'], labels: { keep: 'yes', drop: 'yes' } } as never;
    base.spec.template.spec = {
      containers: ['app', 'side', 'third'].map((name, index) => ({
        name,
        image: `nginx:1.2${index}`,
        env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
        ports: [{ containerPort: 8000 + index }],
        volumeMounts: [{ name: 'data', mountPath: `/data/${name}` }],
      })),
      volumes: [{ name: 'data', emptyDir: {} }, { name: 'cache', emptyDir: {} }],
    } as never;
    await kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(base) });
    const resolveWrite = createWriteResolver();
    const random = seeded(13);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    let compared = 0;
    for (let round = 0; round < 40; round += 1) {
      const containers: JsonValue[] = [];
      const names = ['app', 'side', 'third'];
      const deleted = random() < 0.3 ? pick(names) : undefined;
      if (deleted) containers.push({ name: deleted, $patch: 'delete' });
      for (const name of [...names, `new${round}`]) {
        if (name === deleted || random() < 0.4) continue;
        const change: Record<string, JsonValue> = { name };
        if (name.startsWith('new') || random() < 0.5) change.image = `busybox:1.${round}`;
        if (random() < 0.5) change.env = [random() < 0.5 ? { name: 'B', $patch: 'delete' } : { name: pick(['A', 'C']), value: `${round}` }];
        if (random() < 0.3) change.ports = [{ containerPort: pick([8000, 8001, 9000]), name: `p${round}` }];
        if (random() < 0.3) change.volumeMounts = [{ name: 'cache', mountPath: `/cache/${name}` }];
        containers.push(change);
      }
      const spec: Record<string, JsonValue> = { containers };
      const kept = [...names.filter((name) => name !== deleted), ...containers.flatMap((item) => (isJsonObject(item) && typeof item.name === 'string' && item.name.startsWith('new') ? [item.name] : []))];
      if (random() < 0.4) {
        const order = kept.sort(() => random() - 0.5);
        spec['$setElementOrder/containers'] = order.map((name) => ({ name }));
        spec.containers = containers.sort((left, right) => order.indexOf((left as { name: string }).name) - order.indexOf((right as { name: string }).name));
      }
      if (random() < 0.3) spec.volumes = [random() < 0.5 ? { name: 'cache', $patch: 'delete' } : { name: `v${round}`, emptyDir: {} }];
      const metadata: Record<string, JsonValue> = {};
      if (random() < 0.5) metadata.labels = { drop: null, [`l${round}`]: 'x' };
      const finalizers = random();
      if (finalizers < 0.3) metadata.finalizers = ['c.example/three'];
      else if (finalizers < 0.5) metadata['$deleteFromPrimitiveList/finalizers'] = ['a.example/one'];
      const patch = { metadata, spec: { template: { spec } } };

      const path = '/apis/apps/v1/namespaces/team/deployments/generated';
      const resolution = await resolveWrite({ method: 'PATCH', path, rawQuery: '', headers: { 'content-type': 'application/strategic-merge-patch+json' }, body: Buffer.from(JSON.stringify(patch)) }, upstream, { bodyLimit: 1024 * 1024 });
      const answer = await upstream.request({ method: 'PATCH', target: `${path}?dryRun=All`, headers: { 'content-type': 'application/strategic-merge-patch+json', accept: 'application/json' }, body: 'refusal' in resolution ? Buffer.from(JSON.stringify(patch)) : resolution.forwardBody });
      const chunks: Buffer[] = [];
      for await (const chunk of answer) chunks.push(chunk as Buffer);
      if ('refusal' in resolution) {
        assert.notEqual(resolution.refusal.code, 403, `round ${round}: refused as unsupported: ${resolution.refusal.message}`);
        continue;
      }
      if (answer.statusCode !== 200) continue;
      assertStoredAsResolved(resolution.object as JsonValue, JSON.parse(Buffer.concat(chunks).toString()) as JsonValue, `$round${round}`);
      compared += 1;
    }
    assert.ok(compared >= 25, `${compared} patches compared`);
  });

  it('agrees with the API server on generated server-side applies by a new field manager (each dry-run on the same object)', async () => {
    await viaPepOk(['apply', '--server-side', '-f', '-'], JSON.stringify({ ...structuredClone(DEPLOYMENT), metadata: { name: 'applied', namespace: 'team', labels: { keep: 'yes' } } }));
    const resolveWrite = createWriteResolver();
    const random = seeded(29);
    let compared = 0;
    for (let round = 0; round < 30; round += 1) {
      const containers: JsonValue[] = [{ name: 'api', image: `nginx:1.${round}`, ...(random() < 0.5 ? { env: [{ name: random() < 0.5 ? 'MODE' : `E${round}`, value: `${round}` }] } : {}), ...(random() < 0.4 ? { ports: [{ containerPort: 8080 + (round % 3), ...(random() < 0.5 ? { protocol: 'UDP' } : {}) }] } : {}) }];
      if (random() < 0.4) containers.push({ name: `extra${round}`, image: 'busybox:1.36' });
      const applied = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'applied', namespace: 'team', ...(random() < 0.5 ? { labels: { [`l${round}`]: 'x' } } : {}), ...(random() < 0.3 ? { finalizers: ['example.com/f'] } : {}) },
        spec: {
          selector: { matchLabels: { app: 'api' } },
          template: { metadata: { labels: { app: 'api' } }, spec: { containers, ...(random() < 0.3 ? { tolerations: [{ key: `t${round}`, operator: 'Exists' }] } : {}) } },
        },
      };
      const path = '/apis/apps/v1/namespaces/team/deployments/applied';
      const query = `fieldManager=generated-${round}&force=true`;
      const body = Buffer.from(JSON.stringify(applied));
      const resolution = await resolveWrite({ method: 'PATCH', path, rawQuery: query, headers: { 'content-type': 'application/apply-patch+yaml' }, body }, upstream, { bodyLimit: 1024 * 1024 });
      assert.ok(!('refusal' in resolution), `round ${round}: ${'refusal' in resolution ? resolution.refusal.message : ''}`);
      const answer = await upstream.request({ method: 'PATCH', target: `${path}?${query}&dryRun=All`, headers: { 'content-type': 'application/apply-patch+yaml', accept: 'application/json' }, body: resolution.forwardBody });
      const chunks: Buffer[] = [];
      for await (const chunk of answer) chunks.push(chunk as Buffer);
      assert.equal(answer.statusCode, 200, Buffer.concat(chunks).toString());
      assertStoredAsResolved(resolution.object as JsonValue, JSON.parse(Buffer.concat(chunks).toString()) as JsonValue, `$round${round}`);
      compared += 1;
    }
    assert.equal(compared, 30);
  });

  it('agrees with the API server on generated merge patches and JSON Patches (each dry-run on the same object)', async () => {
    await kube.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ ...structuredClone(DEPLOYMENT), metadata: { name: 'plain', namespace: 'team', labels: { a: '1', b: '2' }, annotations: { note: 'x' } } }) });
    const resolveWrite = createWriteResolver();
    const random = seeded(7);
    const path = '/apis/apps/v1/namespaces/team/deployments/plain';
    let compared = 0;
    for (let round = 0; round < 40; round += 1) {
      const json = round % 2 === 1;
      const patch: JsonValue = json
        ? [
            random() < 0.5 ? { op: 'add', path: `/metadata/labels/l${round}`, value: 'x' } : { op: 'remove', path: '/metadata/labels/a' },
            random() < 0.5 ? { op: 'replace', path: '/spec/template/spec/containers/0/image', value: `nginx:1.${round}` } : { op: 'add', path: '/spec/template/spec/containers/-', value: { name: `c${round}`, image: 'busybox' } },
            ...(random() < 0.4 ? [{ op: 'copy', from: '/metadata/labels', path: '/metadata/annotations' }] : []),
            ...(random() < 0.4 ? [{ op: 'move', from: '/metadata/annotations/note', path: `/metadata/annotations/moved${round}` }] : []),
            ...(random() < 0.3 ? [{ op: 'test', path: '/spec/replicas', value: 1 }] : []),
          ]
        : {
            metadata: { labels: { a: random() < 0.5 ? null : `v${round}`, [`n${round}`]: 'y' }, ...(random() < 0.3 ? { annotations: null } : {}) },
            spec: {
              ...(random() < 0.5 ? { replicas: 1 + (round % 3) } : {}),
              template: { spec: { containers: [{ name: 'api', image: `nginx:1.${round}`, ...(random() < 0.5 ? { env: [{ name: 'X', value: null }] } : {}) }], ...(random() < 0.3 ? { nodeSelector: { zone: 'a', gone: null } } : {}) } },
            },
          };
      const contentType = json ? 'application/json-patch+json' : 'application/merge-patch+json';
      const resolution = await resolveWrite({ method: 'PATCH', path, rawQuery: '', headers: { 'content-type': contentType }, body: Buffer.from(JSON.stringify(patch)) }, upstream, { bodyLimit: 1024 * 1024 });
      if ('refusal' in resolution) {
        assert.equal(resolution.refusal.code, 422, `round ${round}: ${resolution.refusal.message}`);
        continue;
      }
      const answer = await upstream.request({ method: 'PATCH', target: `${path}?dryRun=All`, headers: { 'content-type': contentType, accept: 'application/json' }, body: resolution.forwardBody });
      const chunks: Buffer[] = [];
      for await (const chunk of answer) chunks.push(chunk as Buffer);
      assert.equal(answer.statusCode, 200, `round ${round}: ${Buffer.concat(chunks).toString()}`);
      assertStoredAsResolved(resolution.object as JsonValue, JSON.parse(Buffer.concat(chunks).toString()) as JsonValue, `$round${round}`);
      compared += 1;
    }
    assert.ok(compared >= 30, `${compared} patches compared`);
  });

  it('a patch that turns a container privileged or adds a hostPath is seen as such, and when refused never reaches the API server', async () => {
    await viaPepOk(['create', '-f', '-'], JSON.stringify({ ...DEPLOYMENT, metadata: { name: 'guarded', namespace: 'team' } }));
    decide = async (object) => {
      const text = JSON.stringify(object);
      return text.includes('"privileged":true') || text.includes('"hostPath"') ? 'privileged or hostPath' : undefined;
    };
    const attempts: [string, string][] = [
      ['strategic', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'api', securityContext: { privileged: true } }] } } } })],
      ['merge', JSON.stringify({ spec: { template: { spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }] } } } })],
      ['json', JSON.stringify([{ op: 'add', path: '/spec/template/spec/containers/0/securityContext', value: { privileged: true } }])],
    ];
    for (const [type, patch] of attempts) {
      const result = await viaPep(['patch', 'deployment', 'guarded', '-n', 'team', '--type', type, '-p', patch]);
      assert.notEqual(result.code, 0, type);
      assert.match(result.stderr, /privileged or hostPath/, type);
    }
    const events = await kube.settledAuditEvents();
    assert.deepEqual(events.filter((event) => event.verb === 'patch' && event.objectRef?.name === 'guarded'), []);
    assert.doesNotMatch(JSON.stringify(await stored('deployment', 'guarded')), /privileged|hostPath/);
  });

  it('a change between the read and the write makes the API server refuse the write (409), so nothing unseen is stored', async () => {
    await viaPepOk(['create', '-f', '-'], JSON.stringify({ ...DEPLOYMENT, metadata: { name: 'raced', namespace: 'team' } }));
    for (const [type, patch] of [
      ['strategic', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'api', image: 'nginx:1.28' }] } } } })],
      ['merge', JSON.stringify({ spec: { replicas: 2 } })],
      ['json', JSON.stringify([{ op: 'replace', path: '/spec/replicas', value: 3 }])],
    ] as const) {
      decide = async () => {
        // Someone else changes the object after the resolver read it, before the write is forwarded.
        await kube.kubectlOk(['annotate', 'deployment', 'raced', '-n', 'team', '--overwrite', `raced-by=${type}`]);
        return undefined;
      };
      const result = await viaPep(['patch', 'deployment', 'raced', '-n', 'team', '--type', type, '-p', patch]);
      assert.notEqual(result.code, 0, type);
      assert.match(result.stderr, /the object has been modified/, `${type}: ${result.stderr}`);
    }
    const after = (await stored('deployment', 'raced')) as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    assert.equal(after.spec.replicas, 1);
    assert.equal(after.spec.template.spec.containers[0]?.image, 'nginx:1.27');
  });

  it('resolves a strategic patch of any built-in kind from the API server\'s own OpenAPI: kubectl patch and kubectl apply of a Role', async () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace: 'team' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] };
    await viaPepOk(['apply', '-f', '-'], JSON.stringify(role));
    await viaPepOk(['patch', 'role', 'reader', '-n', 'team', '--type', 'strategic', '-p', JSON.stringify({ rules: [{ apiGroups: [''], resources: ['pods', 'secrets'], verbs: ['get'] }] })]);
    assertStoredAsResolved(lastObject(), await stored('role', 'reader'));
    await viaPepOk(['apply', '-f', '-'], JSON.stringify({ ...role, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] }));
    assert.equal(resolutions.at(-1)?.contentType, 'application/strategic-merge-patch+json');
    assertStoredAsResolved(lastObject(), await stored('role', 'reader'));
    assert.deepEqual((lastObject() as { rules: unknown[] }).rules, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }]);
  });

  it('reads the same merge metadata from the OpenAPI as its built-in table holds for the kinds that carry pods', async () => {
    const schemas = new OpenApiPatchSchemas();
    const kinds: [string, string][] = [['v1', 'Pod'], ['v1', 'PodTemplate'], ['v1', 'ReplicationController'], ['apps/v1', 'Deployment'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'DaemonSet'], ['apps/v1', 'ReplicaSet'], ['batch/v1', 'Job'], ['batch/v1', 'CronJob'], ['v1', 'Service'], ['v1', 'ServiceAccount'], ['v1', 'Namespace'], ['v1', 'Node']];
    for (const [apiVersion, kind] of kinds) {
      const table = schemaForKind(apiVersion, kind);
      const served = await schemas.schemaFor(upstream, apiVersion, kind);
      assert.ok(table && served, `${apiVersion} ${kind}`);
      assertSameMetadata(table, served, `${apiVersion} ${kind}`);
    }
    assert.equal(await schemas.schemaFor(upstream, 'example.com/v1', 'Widget'), undefined);
  });

  it('refuses what it cannot resolve with a clear Status: protobuf, malformed, oversize, unbinding, loosely read pointers, absent objects', async () => {
    const server = new URL(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    const send = async (method: string, path: string, contentType: string, body: Buffer | string) => {
      const response = await fetch(new URL(path, server), { method, headers: { 'content-type': contentType }, body });
      return { status: response.status, body: (await response.json()) as { kind: string; message: string; code: number } };
    };
    const protobuf = await send('POST', '/api/v1/namespaces/team/configmaps', 'application/vnd.kubernetes.protobuf', Buffer.from([0x6b, 0x38, 0x73, 0]));
    assert.equal(protobuf.status, 415);
    assert.equal(protobuf.body.kind, 'Status');
    assert.match(protobuf.body.message, /cannot be read by the enforcement point/);
    const malformed = await send('PATCH', '/api/v1/namespaces/team/pods/web', 'application/merge-patch+json', '{"metadata":');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /not valid JSON/);
    const oversize = await send('POST', '/api/v1/namespaces/team/configmaps', 'application/json', JSON.stringify({ data: { a: 'x'.repeat(3 * 1024 * 1024) } }));
    assert.equal(oversize.status, 413);
    // A name twice in one object: the API server would merge both (hostNetwork stored) where JSON.parse keeps only the last.
    const twice = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"twice"},"spec":{"hostNetwork":true,"containers":[{"name":"a","image":"nginx"}]},"spec":{"containers":[{"name":"a","image":"nginx"}]}}';
    const duplicated = await send('POST', '/api/v1/namespaces/team/pods', 'application/json', twice);
    assert.equal(duplicated.status, 400);
    assert.match(duplicated.body.message, /names "spec" twice in one object/);
    const direct = await upstream.request({ method: 'POST', target: '/api/v1/namespaces/team/pods?dryRun=All&fieldValidation=Ignore', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: Buffer.from(twice) });
    const chunks: Buffer[] = [];
    for await (const chunk of direct) chunks.push(chunk as Buffer);
    assert.equal(direct.statusCode, 201, Buffer.concat(chunks).toString());
    assert.equal((JSON.parse(Buffer.concat(chunks).toString()) as { spec: { hostNetwork?: boolean } }).spec.hostNetwork, true, 'the API server merges a repeated object');
    const unbinding = await send('PATCH', '/api/v1/namespaces/team/pods/web', 'application/strategic-merge-patch+json', JSON.stringify({ metadata: { $patch: 'delete' } }));
    assert.equal(unbinding.status, 403);
    assert.match(unbinding.body.message, /removes the resourceVersion/);
    const negative = await send('PATCH', '/api/v1/namespaces/team/pods/web', 'application/json-patch+json', JSON.stringify([{ op: 'remove', path: '/spec/containers/-1' }]));
    assert.equal(negative.status, 403);
    assert.match(negative.body.message, /not a plain non-negative integer/);
    const missing = await send('PATCH', '/api/v1/namespaces/team/pods/absent', 'application/merge-patch+json', '{}');
    assert.equal(missing.status, 404);
    assert.match(missing.body.message, /not found/);
    const events = await kube.settledAuditEvents();
    assert.deepEqual(events.filter((event) => event.verb === 'create' && event.objectRef?.resource === 'configmaps' && event.objectRef.name === undefined && event.responseStatus?.code !== 201 && event.stage === 'ResponseComplete' && event.user.username === 'portcullis-pep' && (event.requestObject as { data?: unknown } | undefined)?.data !== undefined), []);
  });
});
