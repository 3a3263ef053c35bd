// A Secret written by a non-admin through @kubernetes/client-node: the write is held for approval
// (production), and once approved it is stored as sent — but the object the API server answers the
// write with comes back masked, as every read does: writing a Secret is no way to read one back.
// Nor do its values reach the approver, a record or a log on the way.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import { eventually } from '../support/eventually.ts';
import { apiFailure, pepKubeConfig } from './client-node-config.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';
import { auditBodyOf } from '@portcullis/pdp';

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

/** The texts a value could be found as: itself and its base64 form. */
const forms = (value: string): string[] => [value, base64(value)];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

/**
 * Runs a write that production holds: held first (403 naming the approval), approved, then run
 * again. The approver is shown the write without the Secret's values.
 */
async function runOnceApproved<T>(stack: KubePepStack, value: string, write: () => Promise<T>): Promise<T> {
  const held = await apiFailure(write());
  assert.equal(held.code, 403);
  assert.match(held.status.message, /^portcullis: held for approval/);
  const approvalId = /approval ([0-9a-f-]{36})/.exec(held.status.message)?.[1];
  assert.ok(approvalId, held.status.message);
  const approver = await stack.consoleToken('alice', ['approver']);
  const view = await (await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}`, { headers: { authorization: `Bearer ${approver}` } })).text();
  assert.match(view, /"method":"(POST|PATCH)"/, view);
  for (const form of forms(value)) assert.ok(!view.includes(form), `the approval shows the value: ${view}`);
  await approve(stack, approvalId);
  return write();
}

/**
 * Neither the PDP's files (audit trail, spool) nor the PEP's, nor either's log, hold the value —
 * once the decision trail holds the approved write (`method` on `path`), so the check is not early.
 */
async function assertNowhereRecorded(stack: KubePepStack, value: string, method: string, path: string): Promise<void> {
  await eventually(`the decision trail records the approved ${method} ${path}`, async () =>
    (await stack.pdp.auditEvents('decisions')).some((record) => {
      const text = JSON.stringify(auditBodyOf(record));
      return text.includes(`"method":"${method}"`) && text.includes(`"path":"${path}"`) && text.includes('"effect":"allow"');
    }),
  );
  for (const file of [...filesUnder(stack.pdp.stateDir), ...filesUnder(stack.clientDir)]) {
    const text = readFileSync(file).toString('latin1');
    for (const form of forms(value)) assert.ok(!text.includes(form), `${file} holds the Secret value`);
  }
  for (const line of [...stack.logs, ...stack.pdp.logs]) {
    for (const form of forms(value)) assert.ok(!line.includes(form), `a log line holds the Secret value: ${line}`);
  }
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

  it('answers an approved createNamespacedSecret with the stored Secret masked; the values are stored as sent, and recorded nowhere', async () => {
    const body: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'api-keys', namespace: 'apps' }, type: 'Opaque', data: { 'api-key': base64(API_KEY) } };
    const created = await runOnceApproved(stack, API_KEY, () => writerApi.createNamespacedSecret({ namespace: 'apps', body }));
    assert.equal(created.metadata?.name, 'api-keys');
    assert.deepEqual(created.data, { 'api-key': '****' });
    assert.ok(!JSON.stringify(created).includes(base64(API_KEY)), 'the answer carries no real value');
    assert.deepEqual(await storedData('api-keys'), { 'api-key': base64(API_KEY) });
    await assertNowhereRecorded(stack, API_KEY, 'POST', '/api/v1/namespaces/apps/secrets');
  });

  it('answers an approved patchNamespacedSecret (stringData) with the stored Secret masked; the new value is stored, and recorded nowhere', async () => {
    const patch = () =>
      writerApi.patchNamespacedSecret(
        { name: 'api-keys', namespace: 'apps', body: { stringData: { 'api-key': ROTATED_KEY } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const patched = await runOnceApproved(stack, ROTATED_KEY, patch);
    assert.deepEqual(patched.data, { 'api-key': '****' });
    const answer = JSON.stringify(patched);
    assert.ok(!answer.includes(ROTATED_KEY) && !answer.includes(base64(ROTATED_KEY)), 'the answer carries no real value');
    assert.deepEqual(await storedData('api-keys'), { 'api-key': base64(ROTATED_KEY) });
    await assertNowhereRecorded(stack, ROTATED_KEY, 'PATCH', '/api/v1/namespaces/apps/secrets/api-keys');
  });
});
