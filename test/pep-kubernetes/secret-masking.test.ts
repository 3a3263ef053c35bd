// Secret values through the PEP, decided by the starter policy: masked for a reader in every form
// the real kubectl asks for (JSON, YAML, jsonpath, tables, lists, a watch) and for a client that
// prefers protobuf; in clear for the cluster's administrator; the masked count in the session
// entry; the values in no log line and no record.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

const PASSWORD = 'hunter2-correct-horse';
const NEXT_PASSWORD = 'battery-staple-9';
const CLEAR_VALUES = [PASSWORD, NEXT_PASSWORD].flatMap((value) => [value, Buffer.from(value).toString('base64')]);

function assertNoSecretValue(text: string, where: string): void {
  for (const value of CLEAR_VALUES) assert.ok(!text.includes(value), `${where} holds a Secret value: ${text.slice(0, 300)}`);
}

describe('Secrets through the PEP', () => {
  let stack: KubePepStack;
  let reader: string;

  before(async () => {
    stack = await startKubePepStack();
    await stack.kube.createNamespace('team');
    await stack.kube.kubectlOk(['create', 'secret', 'generic', 'db', '-n', 'team', `--from-literal=password=${PASSWORD}`]);
    // Applied client-side: the last-applied-configuration annotation carries the value too.
    const applied = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'applied', namespace: 'team' }, stringData: { password: PASSWORD } };
    await stack.kube.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(applied) });
    reader = await stack.token('agent-reader', ['reader']);
  });
  after(() => stack?.close());

  const kubectlOk = async (token: string, args: string[]): Promise<string> => {
    const result = await stack.kubectl(token, args);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  it('masks kubectl get secret -o json, -o yaml and -o jsonpath for a reader', async () => {
    const json = JSON.parse(await kubectlOk(reader, ['get', 'secret', 'db', '-n', 'team', '-o', 'json']));
    assert.equal(json.data.password, '****');
    assert.equal(json.metadata.name, 'db');
    const yaml = await kubectlOk(reader, ['get', 'secret', 'db', '-n', 'team', '-o', 'yaml']);
    assert.match(yaml, /password: '\*\*\*\*'/);
    assertNoSecretValue(yaml, 'kubectl -o yaml');
    assert.equal(await kubectlOk(reader, ['get', 'secret', 'db', '-n', 'team', '-o', 'jsonpath={.data.password}']), '****');
    const applied = JSON.parse(await kubectlOk(reader, ['get', 'secret', 'applied', '-n', 'team', '-o', 'json']));
    assert.equal(applied.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '****');
    assertNoSecretValue(JSON.stringify(applied), 'the applied Secret');
  });

  it('masks lists and tables (kubectl get secrets; rows with metadata or whole objects)', async () => {
    const list = await kubectlOk(reader, ['get', 'secrets', '-n', 'team', '-o', 'json']);
    assertNoSecretValue(list, 'the list');
    assert.deepEqual(JSON.parse(list).items.map((item: { data: { password: string } }) => item.data.password), ['****', '****']);
    const table = await kubectlOk(reader, ['get', 'secrets', '-n', 'team']);
    assert.match(table, /^NAME\s+TYPE\s+DATA\s+AGE\n/);
    for (const query of ['', '&includeObject=Object']) {
      const answer = await stack.request({ target: `/api/v1/namespaces/team/secrets?limit=500${query}`, token: reader, headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
      assert.equal(answer.status, 200);
      assert.equal(JSON.parse(answer.body).rows.length, 2);
      assertNoSecretValue(answer.body, `the table${query}`);
    }
  });

  it('answers a client that prefers protobuf in JSON, masked', async () => {
    const answer = await stack.request({ target: '/api/v1/namespaces/team/secrets/db', token: reader, headers: { accept: 'application/vnd.kubernetes.protobuf', 'accept-encoding': 'gzip' } });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    assert.equal(JSON.parse(answer.body).data.password, '****');
  });

  it('masks kubectl get secret --watch -o json, each change as it happens', async () => {
    const watch = spawn(stack.kube.kubectlPath, ['get', 'secret', 'db', '-n', 'team', '--watch', '-o', 'json'], {
      env: { PATH: process.env.PATH, HOME: stack.clientDir, KUBECONFIG: stack.kubeconfig(reader) },
    });
    let seen = '';
    watch.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    watch.stderr.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    try {
      await eventually('the Secret is printed', () => seen.includes('"password": "****"'), { timeoutMs: 30_000 });
      const patch = { stringData: { password: NEXT_PASSWORD }, metadata: { labels: { rotated: 'yes' } } };
      await stack.kube.kubectlOk(['patch', 'secret', 'db', '-n', 'team', '--type=merge', '-p', JSON.stringify(patch)]);
      await eventually('the change arrives through the watch', () => seen.includes('"rotated": "yes"'), { timeoutMs: 30_000 });
    } finally {
      watch.kill('SIGTERM');
      await once(watch, 'exit');
    }
    assertNoSecretValue(seen, 'the watch');
  });

  it('shows the administrator the values', async () => {
    const admin = await stack.token('ops-admin', ['kube-admin'], 'human');
    const value = await kubectlOk(admin, ['get', 'secret', 'applied', '-n', 'team', '-o', 'jsonpath={.data.password}']);
    assert.equal(Buffer.from(value, 'base64').toString(), PASSWORD);
  });

  it('counts the masked values in the session entry, and keeps the values out of every record and log line', async () => {
    await kubectlOk(reader, ['get', 'secrets', '-n', 'team', '-o', 'json']);
    const entry = await eventually('the session entry of the list', async () =>
      sessionStatementBodies(await stack.pdp.auditEvents('sessions')).find((body) => body.statement.text.startsWith('GET /api/v1/namespaces/team/secrets?') && Number(body.masked_cells) > 0),
    );
    // Two passwords and the applied Secret's annotation.
    assert.equal(entry.masked_cells, 3);
    assert.equal(entry.status, 'success');
    for (const stream of ['sessions', 'decisions']) assertNoSecretValue(JSON.stringify(await stack.pdp.auditEvents(stream)), `the ${stream} records`);
    assertNoSecretValue(stack.logs.join('\n'), 'the PEP log');
  });
});
