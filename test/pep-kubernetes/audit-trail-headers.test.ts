// The API server's audit log is the cluster's own record of who asked for what from where. A
// client of the PEP must not write into it: an Audit-ID it sends does not become the audit ID of
// its request, and X-Forwarded-For / X-Real-Ip it sends do not become the request's source IPs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';

describe('client headers the API server would write into its audit log', () => {
  let stack: KubePepStack;

  before(async () => {
    stack = await startKubePepStack();
    await stack.kube.createNamespace('team');
  });
  after(() => stack?.close());

  it('are not forwarded: the audit ID and source IPs are the API server’s own reading', async () => {
    const reader = await stack.token('agent-reader', ['reader']);
    const answer = await stack.request({
      target: '/api/v1/namespaces/team/configmaps?labelSelector=probe%3Daudit-headers',
      token: reader,
      headers: { 'Audit-ID': 'forged-audit-id', 'X-Forwarded-For': '203.0.113.7', 'X-Real-Ip': '203.0.113.8', Forwarded: 'for=203.0.113.9' },
    });
    assert.equal(answer.status, 200, answer.body);
    const events = (await stack.kube.settledAuditEvents()).filter((event) => event.requestURI.includes('probe%3Daudit-headers'));
    assert.ok(events.length > 0);
    for (const event of events) {
      assert.notEqual(event.auditID, 'forged-audit-id');
      assert.deepEqual((event.sourceIPs as string[]).filter((ip) => ip.startsWith('203.0.113.')), []);
    }
  });
});
