// What the PEP does with the mask obligations a policy gives, whatever the starter pack masks
// (mask-obligations-policy.ts): detectors over ConfigMap values, one object path masking Secrets
// in every shape kubectl asks for, and an obligation the PEP cannot read refused before anything
// reaches the API server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { maskObligationsPolicyBundle } from './mask-obligations-policy.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

const EMAIL = 'ann.lee@example.com';
const CARD = '4111 1111 1111 1111';
const PASSWORD = 'hunter2-correct-horse';

describe('mask obligations through the PEP', () => {
  let stack: KubePepStack;
  let caller: string;

  before(async () => {
    stack = await startKubePepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: maskObligationsPolicyBundle() } });
    await stack.kube.createNamespace('team');
    await stack.kube.kubectlOk(['create', 'configmap', 'contacts', '-n', 'team', `--from-literal=owner=write to ${EMAIL} today`, `--from-literal=card=${CARD}`, '--from-literal=replicas=3']);
    await stack.kube.kubectlOk(['create', 'secret', 'generic', 'db', '-n', 'team', `--from-literal=password=${PASSWORD}`]);
    caller = await stack.token('agent-caller', ['reader']);
  });
  after(() => stack?.close());

  const kubectlOk = async (args: string[]): Promise<string> => {
    const result = await stack.kubectl(caller, args);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  it('replaces what detectors find in ConfigMap values, leaving the rest of each value', async () => {
    const configMap = JSON.parse(await kubectlOk(['get', 'configmap', 'contacts', '-n', 'team', '-o', 'json']));
    assert.deepEqual(configMap.data, { owner: 'write to **** today', card: '****', replicas: '3' });
    const yaml = await kubectlOk(['get', 'configmaps', '-n', 'team', '-o', 'yaml']);
    assert.ok(!yaml.includes(EMAIL) && !yaml.includes(CARD));
    assert.match(yaml, /owner: write to \*\*\*\* today/);
  });

  it('masks Secrets in lists and watches by a path written for the object alone', async () => {
    const list = JSON.parse(await kubectlOk(['get', 'secrets', '-n', 'team', '-o', 'json']));
    assert.equal(list.items[0].data.password, '****');
    const watch = spawn(stack.kube.kubectlPath, ['get', 'secrets', '-n', 'team', '--watch', '-o', 'json'], {
      env: { PATH: process.env.PATH, HOME: stack.clientDir, KUBECONFIG: stack.kubeconfig(caller) },
    });
    let seen = '';
    watch.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    try {
      await eventually('the Secret is printed', () => seen.includes('"password": "****"'), { timeoutMs: 30_000 });
      await stack.kube.kubectlOk(['label', 'secret', 'db', '-n', 'team', 'rotated=yes']);
      await eventually('the change arrives through the watch', () => seen.includes('"rotated": "yes"'), { timeoutMs: 30_000 });
    } finally {
      watch.kill('SIGTERM');
      await once(watch, 'exit');
    }
    assert.ok(!seen.includes(Buffer.from(PASSWORD).toString('base64')));
  });

  it('refuses a request whose masks it cannot apply, and the request never reaches the API server', async () => {
    const result = await stack.kubectl(caller, ['get', 'serviceaccounts', '-n', 'team']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Error from server \(Forbidden\): portcullis: policy allows this only with masking this enforcement agent cannot apply/);
    const events = await stack.kube.settledAuditEvents();
    assert.equal(events.filter((event) => event.objectRef?.resource === 'serviceaccounts' && event.user.username === 'portcullis-pep').length, 0);
  });
});
