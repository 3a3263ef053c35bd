// A create or replace body that two JSON readers read differently: the API server's decoder merges
// a duplicated object key into the first one, JSON.parse keeps the last. Through the whole PEP,
// such a body is refused before it is decided, at any depth, and never reaches the API server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

describe('write bodies with duplicated keys', () => {
  let stack: KubePepStack;
  let writer: string;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '0' } });
    await stack.kube.createNamespace('team');
    writer = await stack.token('agent-writer', ['writer']);
  });
  after(() => stack?.close());

  const write = (method: string, target: string, body: string) => stack.request({ method, target, token: writer, headers: { 'content-type': 'application/json' }, body });
  const writesReaching = async (name: string): Promise<string[]> =>
    (await stack.kube.settledAuditEvents()).filter((event) => ['create', 'update'].includes(event.verb) && event.requestURI.includes(name)).map((event) => `${event.verb} ${event.requestURI}`);

  it('refuses a pod whose duplicated spec or securityContext would hide hostNetwork or privileged', async () => {
    const bodies = [
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup-spec","namespace":"team"},"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"x"}]},"spec":{"containers":[{"name":"c","image":"x"}]}}',
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup-sc","namespace":"team"},"spec":{"containers":[{"name":"c","image":"x","securityContext":{"privileged":true},"securityContext":{"runAsNonRoot":true}}]}}',
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup-escaped","namespace":"team"},"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"x"}]},"sp\\u0065c":{"containers":[{"name":"c","image":"x"}]}}',
    ];
    for (const body of bodies) {
      const answer = await write('POST', '/api/v1/namespaces/team/pods', body);
      assert.equal(answer.status, 400, answer.body);
      assert.match(JSON.parse(answer.body).message, /names "(spec|securityContext)" twice/);
    }
    assert.deepEqual(await writesReaching('/pods'), []);
  });

  it('refuses a replace of a Deployment whose template hides privileged the same way', async () => {
    const deployment = (securityContext: string) =>
      `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dup-deploy","namespace":"team"},"spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"x",${securityContext}}]}}}}`;
    await stack.kube.kubectlOk(['create', '-f', '-'], { input: deployment('"securityContext":{"runAsNonRoot":true}') });
    const answer = await write('PUT', '/apis/apps/v1/namespaces/team/deployments/dup-deploy', deployment('"securityContext":{"privileged":true},"securityContext":{"runAsNonRoot":true}'));
    assert.equal(answer.status, 400, answer.body);
    assert.deepEqual((await writesReaching('dup-deploy')).filter((entry) => entry.startsWith('update')), []);
    const stored = JSON.parse(await stack.kube.kubectlOk(['get', 'deployment', 'dup-deploy', '-n', 'team', '-o', 'json']));
    assert.equal(stored.spec.template.spec.containers[0].securityContext.privileged, undefined);
  });
});
