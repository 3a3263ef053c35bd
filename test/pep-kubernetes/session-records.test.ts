// What the PDP's session record holds of requests through the Kubernetes PEP: one session per
// client connection and token, each request an entry with the text decided, its decision, status
// and bytes; discovery answers decided every time but kept briefly, so the API server is asked once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { sessionEventBodies, sessionStatementBodies } from '../support/session-records.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

describe('session records of the Kubernetes PEP', () => {
  let stack: KubePepStack;
  let reader: string;

  before(async () => {
    stack = await startKubePepStack();
    await stack.kube.createNamespace('apps');
    await stack.kube.kubectlOk(['create', 'configmap', 'settings', '-n', 'apps', '--from-literal=colour=blue']);
    reader = await stack.token('agent-reader', ['reader']);
  });
  after(() => stack?.close());

  const statements = async () => sessionStatementBodies(await stack.pdp.auditEvents('sessions'));

  it('records each request as decided: method and target, decision, status, bytes; a refused one is not run', async () => {
    const result = await stack.kubectl(reader, ['get', 'configmap', 'settings', '-n', 'apps', '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const entry = await eventually('the get is in the session record', async () => (await statements()).find((body) => body.statement.text === 'GET /api/v1/namespaces/apps/configmaps/settings'));
    assert.equal(entry.status, 'success');
    assert.equal((entry.statement as { method?: string }).method, 'GET');
    assert.equal((entry.statement as { path?: string }).path, '/api/v1/namespaces/apps/configmaps/settings');
    assert.equal(typeof entry.decision_id, 'string');
    assert.ok(Number(entry.bytes) >= Buffer.byteLength(result.stdout.trim()) - 200, `bytes ${entry.bytes}`);

    const missing = await stack.kubectl(reader, ['get', 'configmap', 'absent', '-n', 'apps']);
    assert.match(missing.stderr, /NotFound/);
    const failed = await eventually('the 404 is in the session record', async () => (await statements()).find((body) => body.statement.text === 'GET /api/v1/namespaces/apps/configmaps/absent'));
    assert.equal(failed.status, 'failure');

    await stack.kubectl(reader, ['delete', 'namespace', 'apps', '--wait=false']);
    const all = await statements();
    assert.equal(all.filter((body) => body.statement.text.startsWith('DELETE ')).length, 0, 'a denied request never ran, so it is no statement');
  });

  it('opens one session per client connection and token, and ends it when the connection closes', async () => {
    const earlier = new Set(sessionEventBodies(await stack.pdp.auditEvents('sessions')).map((body) => body.session.id));
    await stack.kubectl(reader, ['get', 'configmaps', '-n', 'apps', '-l', 'probe=run-1']);
    await stack.kubectl(reader, ['get', 'configmaps', '-n', 'apps', '-l', 'probe=run-2']);
    const sessionOf = async (probe: string) =>
      (await eventually(`the ${probe} list is recorded`, async () => (await statements()).find((body) => body.statement.text.includes(`probe%3D${probe}`)))).session.id;
    const first = await sessionOf('run-1');
    const second = await sessionOf('run-2');
    assert.notEqual(first, second);
    assert.ok(!earlier.has(first) && !earlier.has(second));
    await eventually('both sessions ended', async () => {
      const ends = sessionEventBodies(await stack.pdp.auditEvents('sessions')).filter((body) => body.event === 'session.end').map((body) => body.session.id);
      return ends.includes(first) && ends.includes(second);
    });
    assert.equal(stack.pep.health().sessions, 0);
  });

  it('decides every discovery request but asks the API server once within the cache time', async () => {
    for (let run = 0; run < 3; run++) {
      const answer = await stack.request({ target: '/version?probe=cached', token: reader });
      assert.equal(answer.status, 200);
      assert.match(answer.body, /"gitVersion": ?"v1\.34\.4"/);
    }
    await eventually('three decided discovery requests in the record', async () => (await statements()).filter((body) => body.statement.text === 'GET /version?probe=cached').length === 3);
    const reached = (await stack.kube.settledAuditEvents()).filter((event) => event.requestURI === '/version?probe=cached');
    assert.equal(reached.length, 1);
  });
});
