// A Secret written by a non-admin through @kubernetes/client-node: the write is held for approval
// (production), and once approved it is stored as sent — but the object the API server answers the
// write with comes back masked, as every read does: writing a Secret is no way to read one back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import { apiFailure, pepKubeConfig } from './client-node-config.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const API_KEY = 'sk-live-4f9a2c7e1b';
const ROTATED_KEY = 'sk-live-rotated-88d1';

async function approve(stack: KubePepStack, approvalId: string): Promise<void> {
  const approver = await stack.consoleToken('alice', ['approver']);
  const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict: 'approve', reason: 'key rotation' }),
  });
  assert.equal(response.status, 200, await response.text());
}

/** Runs a write that production holds: held first (403 naming the approval), approved, then run again. */
async function runOnceApproved<T>(stack: KubePepStack, write: () => Promise<T>): Promise<T> {
  const held = await apiFailure(write());
  assert.equal(held.code, 403);
  assert.match(held.status.message, /^portcullis: held for approval/);
  const approvalId = /approval ([0-9a-f-]{36})/.exec(held.status.message)?.[1];
  assert.ok(approvalId, held.status.message);
  await approve(stack, approvalId);
  return write();
}

describe('Secrets written through client-node by a non-admin', () => {
  let stack: KubePepStack;
  let writerApi: CoreV1Api;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '1' } });
    await stack.kube.createNamespace('apps');
    writerApi = pepKubeConfig(stack, await stack.token('agent-writer', ['writer'])).makeApiClient(CoreV1Api);
  });
  after(async () => {
    await stack?.close();
  });

  /** The Secret's data as the API server stores it (read by the administrator, straight). */
  const storedData = async (name: string): Promise<unknown> => JSON.parse(await stack.kube.kubectlOk(['get', 'secret', name, '-n', 'apps', '-o', 'jsonpath={.data}']));

  it('answers an approved createNamespacedSecret with the stored Secret masked; the values are stored as sent', async () => {
    const body: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api-keys', namespace: 'apps' }, type: 'Opaque', data: { 'api-key': base64(API_KEY) } };
    const created = await runOnceApproved(stack, () => writerApi.createNamespacedSecret({ namespace: 'apps', body }));
    assert.equal(created.metadata?.name, 'api-keys');
    assert.deepEqual(created.data, { 'api-key': '****' });
    assert.ok(!JSON.stringify(created).includes(base64(API_KEY)), 'the answer carries no real value');
    assert.deepEqual(await storedData('api-keys'), { 'api-key': base64(API_KEY) });
  });

  it('answers an approved patchNamespacedSecret (stringData) with the stored Secret masked; the new value is stored', async () => {
    const patch = () =>
      writerApi.patchNamespacedSecret(
        { name: 'api-keys', namespace: 'apps', body: { stringData: { 'api-key': ROTATED_KEY } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const patched = await runOnceApproved(stack, patch);
    assert.deepEqual(patched.data, { 'api-key': '****' });
    const answer = JSON.stringify(patched);
    assert.ok(!answer.includes(ROTATED_KEY) && !answer.includes(base64(ROTATED_KEY)), 'the answer carries no real value');
    assert.deepEqual(await storedData('api-keys'), { 'api-key': base64(ROTATED_KEY) });
  });
});
