// Re-reads under a reuse grant: the same GET again on one connection is not decided again (the
// PDP granted reuse for reads) but each one reaches the API server and is on the session record;
// another path and a watch are each decided.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { after, before, test } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';
import { auditBodyOf } from '@portcullis/pdp';

let stack: KubePepStack;

before(async () => {
  stack = await startKubePepStack();
  await stack.kube.createNamespace('reads');
  await stack.kube.kubectlOk(['create', 'configmap', 'settings', '-n', 'reads', '--from-literal=mode=fast']);
  await stack.kube.kubectlOk(['create', 'configmap', 'other', '-n', 'reads', '--from-literal=mode=slow']);
});
after(async () => {
  await stack?.close();
});

/** GETs over one kept-alive connection (one session of the PEP). */
function onOneConnection(token: string): { get(target: string): Promise<number>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(stack.pepCaFile) });
  const url = new URL(stack.pep.url);
  return {
    get: (target) =>
      new Promise((resolve, reject) => {
        const outgoing = request({ host: url.hostname, port: url.port, path: target, agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        outgoing.on('error', reject);
        outgoing.end();
      }),
    close: () => agent.destroy(),
  };
}

interface StatementEntry {
  readonly statement?: { readonly text?: string };
  readonly decision_verified?: boolean;
  readonly status?: string;
}

/** The statements a `session.statements` record carries (one record holds a batch of them). */
function statementsOf(record: Record<string, unknown>): StatementEntry[] {
  const native = auditBodyOf(record) as { statements?: StatementEntry[] } | undefined;
  return native?.statements ?? [];
}

const decisionsFor = async (path: string): Promise<number> =>
  (await stack.pdp.auditEvents('decisions')).filter((record) => JSON.stringify(record).includes(path)).length;

test('the same GET again on one connection stands on the first decision, and every one reaches the API server and the record', async () => {
  const token = await stack.token('agent-reader', ['reader']);
  const connection = onOneConnection(token);
  const target = '/api/v1/namespaces/reads/configmaps/settings';
  try {
    for (let index = 0; index < 3; index += 1) assert.equal(await connection.get(target), 200);
    assert.equal(await connection.get('/api/v1/namespaces/reads/configmaps/other'), 200);
  } finally {
    connection.close();
  }
  await eventually('the decision records are written', async () => (await decisionsFor('/configmaps/other')) === 1);
  assert.equal(await decisionsFor(target), 1, 'one decision for three identical reads');
  const reached = (await stack.kube.settledAuditEvents()).filter((event) => event.requestURI === target);
  assert.equal(reached.length, 3, 'each read reached the API server');
  await eventually('each read is a session entry', async () => {
    const entries = (await stack.pdp.auditEvents('sessions')).flatMap(statementsOf).filter((entry) => entry.statement?.text === `GET ${target}`);
    return entries.length === 3 && entries.every((entry) => entry.decision_verified === true && entry.status === 'success');
  });
});

test('a watch is decided every time, even the very same one on one connection', async () => {
  const token = await stack.token('agent-reader', ['reader']);
  const connection = onOneConnection(token);
  const target = '/api/v1/namespaces/reads/configmaps?watch=1&timeoutSeconds=1';
  try {
    for (let index = 0; index < 2; index += 1) assert.equal(await connection.get(target), 200);
  } finally {
    connection.close();
  }
  await eventually('both watches decided', async () => (await decisionsFor('watch=1&timeoutSeconds=1')) === 2);
});
