// The resolver's decisions around the read of the current object, with an upstream that answers
// from a table: the built-in table when the OpenAPI cannot be read, a kind known to neither
// refused as the API server refuses a custom resource's strategic patch, the API server's own
// refusals passed on, an apply to an absent object a create.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { KubeRequest } from '../../src/request/kube-request.ts';
import type { KubeUpstream } from '../../src/upstream/kube-upstream.ts';
import { createWriteResolver } from '../../src/writes/resolve-write.ts';

type Answers = Record<string, { status: number; body: unknown }>;

function tableUpstream(answers: Answers, reads: string[]): KubeUpstream {
  return {
    request: async ({ target }) => {
      reads.push(target);
      const answer = answers[target] ?? { status: 404, body: { kind: 'Status', message: `${target} not found` } };
      const message = Readable.from([Buffer.from(JSON.stringify(answer.body))]) as unknown as IncomingMessage;
      Object.assign(message, { statusCode: answer.status, headers: { 'content-type': 'application/json' } });
      return message;
    },
    connect: async () => {
      throw new Error('not used');
    },
    credentialHeaders: () => ({}),
    impersonationHeaders: () => ({}),
    close: () => undefined,
  };
}

const patch = (path: string, contentType: string, body: unknown): KubeRequest => ({
  method: 'PATCH',
  path,
  rawQuery: '',
  headers: { 'content-type': contentType },
  body: Buffer.from(JSON.stringify(body)),
});

const POD_PATH = '/api/v1/namespaces/team/pods/web';
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', resourceVersion: '12' }, spec: { containers: [{ name: 'app', image: 'a' }, { name: 'side', image: 'b' }] } };

describe('resolveWrite', () => {
  it('falls back to its built-in table when the OpenAPI cannot be read, and binds the patch to the version read', async () => {
    const reads: string[] = [];
    const resolution = await createWriteResolver()(
      patch(POD_PATH, 'application/strategic-merge-patch+json', { spec: { containers: [{ name: 'app', securityContext: { privileged: true } }] } }),
      tableUpstream({ [POD_PATH]: { status: 200, body: pod } }, reads),
      { bodyLimit: 1024 * 1024 },
    );
    assert.ok(!('refusal' in resolution), JSON.stringify(resolution));
    assert.deepEqual((resolution.object as typeof pod).spec.containers, [{ name: 'app', image: 'a', securityContext: { privileged: true } }, { name: 'side', image: 'b' }]);
    assert.deepEqual(JSON.parse(resolution.forwardBody.toString()), { spec: { containers: [{ name: 'app', securityContext: { privileged: true } }] }, metadata: { resourceVersion: '12' } });
    assert.equal(resolution.contentType, 'application/strategic-merge-patch+json');
    assert.deepEqual(reads, [POD_PATH, '/openapi/v3']);
  });

  it('refuses a strategic patch of a kind neither the OpenAPI nor its table knows with 415, naming the other patch types', async () => {
    const path = '/apis/example.com/v1/namespaces/team/widgets/w';
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', resourceVersion: '3' }, spec: { size: 1 } };
    const resolution = await createWriteResolver()(patch(path, 'application/strategic-merge-patch+json', { spec: { size: 2 } }), tableUpstream({ [path]: { status: 200, body: widget } }, []), { bodyLimit: 1024 });
    assert.ok('refusal' in resolution);
    assert.equal(resolution.refusal.code, 415);
    assert.match(resolution.refusal.message, /strategic merge patch of example\.com\/v1 Widget is not modelled; use a JSON merge patch or a JSON Patch/);
    const merged = await createWriteResolver()(patch(path, 'application/merge-patch+json', { spec: { size: 2 } }), tableUpstream({ [path]: { status: 200, body: widget } }, []), { bodyLimit: 1024 });
    assert.ok(!('refusal' in merged));
    assert.deepEqual((merged.object as typeof widget).spec, { size: 2 });
  });

  it('passes on the API server\'s refusal of the read, and treats an apply to an absent object as its create', async () => {
    const forbidden = await createWriteResolver()(
      patch(POD_PATH, 'application/merge-patch+json', {}),
      tableUpstream({ [POD_PATH]: { status: 403, body: { kind: 'Status', message: 'pods "web" is forbidden' } } }, []),
      { bodyLimit: 1024 },
    );
    assert.ok('refusal' in forbidden);
    assert.equal(forbidden.refusal.code, 403);
    assert.equal(forbidden.refusal.message, 'pods "web" is forbidden');
    const absent = await createWriteResolver()(patch(POD_PATH, 'application/json-patch+json', [{ op: 'add', path: '/x', value: 1 }]), tableUpstream({}, []), { bodyLimit: 1024 });
    assert.ok('refusal' in absent);
    assert.equal(absent.refusal.code, 404);
    const applied = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { hostNetwork: true, containers: [{ name: 'app', image: 'a' }] } };
    const created = await createWriteResolver()(patch(POD_PATH, 'application/apply-patch+yaml', applied), tableUpstream({}, []), { bodyLimit: 1024 });
    assert.ok(!('refusal' in created));
    assert.deepEqual(created.object, applied);
  });

  it('refuses a body over the limit and a client precondition other than the version read', async () => {
    const large = await createWriteResolver()(patch(POD_PATH, 'application/merge-patch+json', { a: 'x'.repeat(2000) }), tableUpstream({}, []), { bodyLimit: 1024 });
    assert.ok('refusal' in large);
    assert.equal(large.refusal.code, 413);
    const stale = await createWriteResolver()(
      patch(POD_PATH, 'application/merge-patch+json', { metadata: { resourceVersion: '11' }, spec: {} }),
      tableUpstream({ [POD_PATH]: { status: 200, body: pod } }, []),
      { bodyLimit: 1024 },
    );
    assert.ok('refusal' in stale);
    assert.equal(stale.refusal.code, 409);
  });
});
