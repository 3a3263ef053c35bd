// The object a patch lands on is read before the patch is decided. That read must tell the client
// nothing the principal may not read itself: it is decided as the principal's own GET, masked as
// policy masks it, and refused like that GET would be — so neither policy's messages about the
// resolved object, nor the resolver's refusals, nor a JSON Patch `test` reveal a Secret's value or
// an object in a namespace the principal may not touch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

const PASSWORD = 'hunter2-correct-horse';
const ENCODED = Buffer.from(PASSWORD).toString('base64');

describe('the read behind a patch resolution', () => {
  let stack: KubePepStack;
  let reader: string;
  let writer: string;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '0' } });
    await stack.kube.createNamespace('team');
    await stack.kube.kubectlOk(['create', 'secret', 'generic', 'db', '-n', 'team', `--from-literal=password=${PASSWORD}`]);
    await stack.kube.kubectlOk(['create', 'secret', 'generic', 'sys', '-n', 'kube-system', `--from-literal=password=${PASSWORD}`]);
    reader = await stack.token('agent-reader', ['reader']);
    writer = await stack.token('agent-writer', ['writer']);
  });
  after(() => stack?.close());

  const jsonPatch = (target: string, token: string, operations: unknown[]) =>
    stack.request({ method: 'PATCH', target, token, headers: { 'content-type': 'application/json-patch+json' }, body: JSON.stringify(operations) });

  // A Secret value copied where policy quotes it: a container name of a privileged pod spec, a hostPath.
  const quotingPatches: unknown[][] = [
    [
      { op: 'add', path: '/spec', value: { containers: [{ name: 'x', image: 'x', securityContext: { privileged: true } }] } },
      { op: 'copy', from: '/data/password', path: '/spec/containers/0/name' },
    ],
    [
      { op: 'add', path: '/spec', value: { containers: [{ name: 'x', image: 'x' }], volumes: [{ name: 'v', hostPath: { path: 'x' } }] } },
      { op: 'copy', from: '/data/password', path: '/spec/volumes/0/hostPath/path' },
    ],
  ];

  it('never quotes a Secret value back in a refusal, for a reader or a writer', async () => {
    for (const token of [reader, writer]) {
      for (const operations of quotingPatches) {
        const answer = await jsonPatch('/api/v1/namespaces/team/secrets/db', token, operations);
        assert.equal(answer.status, 403, answer.body);
        assert.ok(!answer.body.includes(ENCODED) && !answer.body.includes(PASSWORD), answer.body);
        assert.match(JSON.parse(answer.body).message, /denied by policy|shown to you masked/);
      }
    }
  });

  it('answers a JSON Patch test the same whether it guessed the value or not', async () => {
    for (const token of [reader, writer]) {
      const right = await jsonPatch('/api/v1/namespaces/team/secrets/db', token, [{ op: 'test', path: '/data/password', value: ENCODED }]);
      const wrong = await jsonPatch('/api/v1/namespaces/team/secrets/db', token, [{ op: 'test', path: '/data/password', value: 'bm9wZQ==' }]);
      assert.equal(right.status, wrong.status);
      assert.equal(JSON.parse(right.body).message.replace(/\[decision [^\]]+\]/, ''), JSON.parse(wrong.body).message.replace(/\[decision [^\]]+\]/, ''));
    }
  });

  it('does not read an object the principal may not read: kube-system stays unread, the refusal is policy’s', async () => {
    const answer = await jsonPatch('/api/v1/namespaces/kube-system/secrets/sys', reader, quotingPatches[0]!);
    assert.equal(answer.status, 403);
    assert.ok(!answer.body.includes(ENCODED), answer.body);
    assert.match(JSON.parse(answer.body).message, /kube-system/);
    const reached = (await stack.kube.settledAuditEvents()).filter((event) => event.requestURI.startsWith('/api/v1/namespaces/kube-system/secrets/sys') && event.user.username !== 'kube-admin');
    assert.deepEqual(reached.map((event) => `${event.verb} ${event.requestURI}`), []);
  });

  it('refuses a JSON Patch that copies or moves a masked value anywhere, before it is decided or forwarded', async () => {
    for (const [op, from] of [['copy', '/data/password'], ['move', '/data/password'], ['copy', '/data']] as const) {
      const answer = await jsonPatch('/api/v1/namespaces/team/secrets/db', writer, [
        { op: 'add', path: '/metadata/labels', value: {} },
        { op, from, path: '/metadata/labels/leak' },
      ]);
      assert.equal(answer.status, 403, answer.body);
      assert.match(JSON.parse(answer.body).message, new RegExp(`would ${op} a value shown to you masked`));
    }
    const patched = (await stack.kube.settledAuditEvents()).filter((event) => event.verb === 'patch' && event.objectRef?.name === 'db');
    assert.deepEqual(patched.map((event) => event.requestURI), []);
    const stored = JSON.parse(await stack.kube.kubectlOk(['get', 'secret', 'db', '-n', 'team', '-o', 'json']));
    assert.equal(stored.metadata.labels, undefined);
  });

  it('still resolves and stores a writer’s patch of a Secret it sees masked (after approval)', async () => {
    const next = Buffer.from('rotated').toString('base64');
    const patch = () =>
      stack.request({ method: 'PATCH', target: '/api/v1/namespaces/team/secrets/db', token: writer, headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ data: { other: next } }) });
    const held = await patch();
    assert.equal(held.status, 403, held.body);
    assert.ok(!held.body.includes(ENCODED));
    const approvalId = /approval ([0-9a-f-]{36})/.exec(held.body)?.[1];
    assert.ok(approvalId, held.body);
    const approver = await stack.consoleToken('alice', ['approver']);
    const vote = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve', reason: 'rotation' }),
    });
    assert.equal(vote.status, 200, await vote.text());
    const answer = await patch();
    assert.equal(answer.status, 200, answer.body);
    assert.ok(!answer.body.includes(ENCODED), 'the answer is masked');
    const stored = JSON.parse(await stack.kube.kubectlOk(['get', 'secret', 'db', '-n', 'team', '-o', 'json']));
    assert.equal(stored.data.password, ENCODED, 'the value the writer saw masked is kept');
    assert.equal(stored.data.other, next);
  });
});
