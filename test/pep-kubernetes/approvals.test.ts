// A change on production through the Kubernetes PEP is held for approval: a client that waits runs
// once someone approves; one whose hold runs out gets a Forbidden Status naming the approval, the
// console link and what to do, the API server never sees it, and the same kubectl command run
// again once approved runs once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

async function vote(stack: KubePepStack, approvalId: string, verdict: 'approve' | 'deny', reason: string): Promise<void> {
  const approver = await stack.consoleToken('alice', ['approver']);
  const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict, reason }),
  });
  assert.equal(response.status, 200, await response.text());
}

/** A ConfigMap manifest: `kubectl create -f -` sends it as JSON (kubectl's typed `create configmap` sends protobuf). */
const configMap = (name: string, mode: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'apps' }, data: { mode } });
const create = ['create', '-f', '-'];

const createsIn = async (stack: KubePepStack, name: string): Promise<number> =>
  (await stack.kube.settledAuditEvents()).filter((event) => event.verb === 'create' && event.objectRef?.resource === 'configmaps' && event.objectRef.name === name && event.responseStatus?.code === 201).length;

describe('a change whose hold runs out', () => {
  let stack: KubePepStack;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '1' }, pdpEnv: { PORTCULLIS_PUBLIC_URL: 'https://portcullis.example' } });
    await stack.kube.createNamespace('apps');
  });
  after(() => stack?.close());

  it('is answered Forbidden with the approval, its console link and "run the command again", never reaching the API server; run again once approved, it runs once', async () => {
    const writer = await stack.token('agent-writer', ['writer']);
    const input = configMap('held-1', 'approved');
    const held = await stack.kubectl(writer, create, { input });
    assert.notEqual(held.code, 0);
    assert.match(held.stderr, /Error from server \(Forbidden\): error when creating "STDIN": portcullis: held for approval/);
    const approvalId = /approval ([0-9a-f-]{36})/.exec(held.stderr)?.[1];
    assert.ok(approvalId, held.stderr);
    assert.ok(held.stderr.includes(`approve at https://portcullis.example/console/#/approvals/${approvalId}`), held.stderr);
    assert.match(held.stderr, /Run the same command again once approval [0-9a-f-]{36} is granted/);
    assert.equal(await createsIn(stack, 'held-1'), 0);

    await vote(stack, approvalId, 'approve', 'ticket 13');
    const rerun = await stack.kubectl(writer, create, { input });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(await stack.kube.kubectlOk(['get', 'configmap', 'held-1', '-n', 'apps', '-o', 'jsonpath={.data.mode}']), 'approved');
    assert.equal(await createsIn(stack, 'held-1'), 1);

    // One approval, one execution: the same request again is held anew.
    await stack.kube.kubectlOk(['delete', 'configmap', 'held-1', '-n', 'apps']);
    const third = await stack.kubectl(writer, create, { input });
    assert.match(third.stderr, /held for approval/);
    assert.equal(/approval ([0-9a-f-]{36})/.exec(third.stderr)?.[1] === approvalId, false);
    assert.equal(await createsIn(stack, 'held-1'), 1);
  });
});

describe('a change approved while its client waits', () => {
  let stack: KubePepStack;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '120' } });
    await stack.kube.createNamespace('apps');
  });
  after(() => stack?.close());

  /** The client cannot be told while it waits: the PEP's log names the approval it holds a request for. */
  const heldApproval = (logsBefore: number): Promise<string> =>
    eventually('the PEP logs the approval it holds the request for', () => stack.logs.slice(logsBefore).map((line) => /approval required.*approval ([0-9a-f-]{36})/.exec(line)?.[1]).find(Boolean), { timeoutMs: 30_000 });

  it('runs once approved, in the same kubectl run', async () => {
    const writer = await stack.token('agent-writer', ['writer']);
    const logsBefore = stack.logs.length;
    const running = stack.kubectl(writer, create, { input: configMap('held-3', 'waited') });
    const approvalId = await heldApproval(logsBefore);
    assert.equal(await createsIn(stack, 'held-3'), 0);
    await vote(stack, approvalId, 'approve', 'ticket 14');
    const result = await running;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await createsIn(stack, 'held-3'), 1);
  });

  it('is answered Forbidden with the approver\'s verdict when the approval is denied, and nothing runs', async () => {
    const writer = await stack.token('agent-writer', ['writer']);
    const logsBefore = stack.logs.length;
    const running = stack.kubectl(writer, create, { input: configMap('held-4', 'denied') });
    const approvalId = await heldApproval(logsBefore);
    await vote(stack, approvalId, 'deny', 'not during the freeze');
    const result = await running;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Error from server \(Forbidden\): error when creating "STDIN": portcullis: not approved \(approval-denied/);
    assert.equal(await createsIn(stack, 'held-4'), 0);
  });
});
