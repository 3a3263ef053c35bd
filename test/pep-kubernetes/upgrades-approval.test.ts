// exec under the starter policy, which holds every exec, attach and port-forward for approval:
// the held upgrade is answered with a Status naming the approval and never reaches the API
// server; once approved, the same command runs once (the approval is found by its binding) and
// reaches the API server; a reader may not open one at all.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';
import { createBoundPod, startStandInKubelet, type StandInKubelet } from './stand-in-kubelet.ts';

const SPDY_ONLY = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };

let stack: KubePepStack;
let kubelet: StandInKubelet;

before(async () => {
  // A held request is answered at once (the wait is the PEP's setting; waiting is the SDK's, tested there).
  stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '0' } });
  kubelet = await startStandInKubelet(stack.kube);
  await stack.kube.createNamespace('apps');
  await createBoundPod(stack.kube, kubelet, 'apps', 'web');
});
after(async () => {
  await kubelet?.stop();
  await stack?.close();
});

async function execsReachingApiServer(fragment: string): Promise<number> {
  const events = await stack.kube.settledAuditEvents();
  return events.filter((event) => event.stage === 'ResponseComplete' && event.objectRef?.subresource === 'exec' && event.requestURI.includes(fragment)).length;
}

it('holds an exec for approval with a Status naming it, then runs the approved command once', async () => {
  const writer = await stack.token('agent-deployer', ['writer']);
  const approver = await stack.consoleToken('alice', ['approver']);
  const args = ['exec', '-n', 'apps', 'web', '--', 'sh', '-c', 'echo approved-run'];

  const held = await stack.kubectl(writer, args, { env: SPDY_ONLY });
  assert.notEqual(held.code, 0);
  assert.match(held.stderr, /Error from server \(Forbidden\): portcullis: held for approval/);
  assert.match(held.stderr, /run the same command again once approval [0-9a-f-]{36} is granted/i);
  const approvalId = /approval ([0-9a-f-]{36})/.exec(held.stderr)![1]!;
  assert.equal(await execsReachingApiServer('approved-run'), 0, 'the held exec never reached the API server');
  assert.equal(kubelet.requests.filter((path) => path.includes('approved-run')).length, 0);

  const voted = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict: 'approve', reason: 'checking the deployment' }),
  });
  assert.equal(voted.status, 200, await voted.text());

  const ran = await stack.kubectl(writer, args, { env: SPDY_ONLY });
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, 'ran: sh -c echo approved-run\r\n');
  assert.equal(await execsReachingApiServer('approved-run'), 1);

  // One execution: the same command again is held afresh.
  const again = await stack.kubectl(writer, args, { env: SPDY_ONLY });
  assert.match(again.stderr, /held for approval/);
  assert.equal(await execsReachingApiServer('approved-run'), 1);
});

it('refuses an exec to a reader on both protocols, and neither reaches the API server', async () => {
  const reader = await stack.token('agent-reader', ['reader']);
  // kubectl tries WebSocket, then falls back to SPDY: both are refused.
  const result = await stack.kubectl(reader, ['exec', '-n', 'apps', 'web', '--', 'sh', '-c', 'echo reader-run']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /Error from server \(Forbidden\): portcullis: denied by policy/);
  assert.equal(await execsReachingApiServer('reader-run'), 0);
  assert.equal(kubelet.requests.filter((path) => path.includes('reader-run')).length, 0);
});
