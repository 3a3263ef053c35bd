// exec and port-forward through the PEP with @kubernetes/client-node, which speaks only WebSocket
// (the channel protocols, and port-forward with its ports in the query): decided as sent, relayed,
// and what policy refuses never reaches the API server.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Exec, PortForward, type V1Status } from '@kubernetes/client-node';
import { eventually } from '../support/eventually.ts';
import { pepKubeConfig } from './client-node-config.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';
import { createBoundPod, startStandInKubelet, type StandInKubelet } from './stand-in-kubelet.ts';
import { upgradeTestPolicyBundle } from './upgrade-test-policy.ts';

let stack: KubePepStack;
let kubelet: StandInKubelet;
let writer: string;

before(async () => {
  stack = await startKubePepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: upgradeTestPolicyBundle() } });
  kubelet = await startStandInKubelet(stack.kube);
  await stack.kube.createNamespace('apps');
  await createBoundPod(stack.kube, kubelet, 'apps', 'web');
  writer = await stack.token('agent-client-node', ['writer']);
});
after(async () => {
  await kubelet?.stop();
  await stack?.close();
});

/** client-node rejects an upgrade the server answers without switching with the WebSocket error event. */
function forbidden(error: { message?: string }): boolean {
  assert.match(error.message ?? '', /Unexpected server response: 403/);
  return true;
}

async function upgradesAt(subresource: string, fragment: string): Promise<string[]> {
  const events = await stack.kube.settledAuditEvents();
  return events.filter((event) => event.stage === 'ResponseComplete' && event.objectRef?.subresource === subresource && event.requestURI.includes(fragment)).map((event) => event.requestURI);
}

describe('@kubernetes/client-node through the PEP', () => {
  it('runs an allowed exec: the output and the closing status come back through the PEP', async () => {
    let output = '';
    const stdout = new PassThrough();
    stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let status: V1Status | undefined;
    const socket = await new Exec(pepKubeConfig(stack, writer)).exec('apps', 'web', 'main', ['printenv', 'client-node-run'], stdout, null, null, false, (closing) => {
      status = closing;
    });
    await eventually('the exec finished with a status', () => status !== undefined);
    socket.close();
    assert.equal(status?.status, 'Success');
    assert.equal(output, 'ran: printenv client-node-run\r\n');
    assert.equal((await upgradesAt('exec', 'client-node-run')).length, 1);
  });

  it('refuses a denied exec before the API server sees it', async () => {
    const exec = new Exec(pepKubeConfig(stack, writer));
    await assert.rejects(exec.exec('apps', 'web', 'main', ['echo', 'forbidden-client-node'], new PassThrough(), null, null, false), forbidden);
    assert.deepEqual(await upgradesAt('exec', 'forbidden-client-node'), []);
  });

  it('decides a port-forward on the ports its query names: a denied port never reaches the API server, an allowed one does', async () => {
    const forward = new PortForward(pepKubeConfig(stack, writer));
    await assert.rejects(forward.portForward('apps', 'web', [22], new PassThrough(), null, new PassThrough()), forbidden);
    assert.deepEqual(await upgradesAt('portforward', 'ports=22'), []);
    // Allowed, it reaches the API server (which relays it to the kubelet; the stand-in speaks only SPDY, so it ends there).
    await forward.portForward('apps', 'web', [8080], new PassThrough(), null, new PassThrough()).then(
      (socket) => (typeof socket === 'function' ? socket() : socket)?.close(),
      () => undefined,
    );
    assert.equal((await upgradesAt('portforward', 'ports=8080')).length, 1);
  });
});
