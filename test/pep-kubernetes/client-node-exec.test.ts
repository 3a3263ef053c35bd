// An exec from @kubernetes/client-node (its WebSocket, offering v5 down to the base channel
// protocol; its query written by Node's querystring, spaces as %20) through the PEP with the
// starter policy: a reader's is refused before the upgrade and never reaches the API server; a
// writer's is held for approval, the approver is told the exact argv, and once approved it runs
// through the API server to a stand-in kubelet.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import { eventually } from '../support/eventually.ts';
import { pepKubeConfig } from './client-node-config.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';
import { createBoundPod, startStandInKubelet, type StandInKubelet } from './stand-in-kubelet.ts';

/** A Writable that keeps what it is given. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('client-node exec through the Kubernetes PEP', () => {
  let stack: KubePepStack;
  let kubelet: StandInKubelet;

  before(async () => {
    stack = await startKubePepStack({ pepEnv: { PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS: '120' } });
    kubelet = await startStandInKubelet(stack.kube);
    await stack.kube.createNamespace('apps');
    await createBoundPod(stack.kube, kubelet, 'apps', 'web');
  });
  after(async () => {
    await kubelet?.stop();
    await stack?.close();
  });

  /** The exec upgrades that reached the API server for a pod, as its audit log has them. */
  const execsReached = async (fragment: string): Promise<{ user: string; requestURI: string }[]> =>
    (await stack.kube.settledAuditEvents())
      .filter((event) => event.stage === 'ResponseComplete' && event.objectRef?.subresource === 'exec' && event.requestURI.includes(fragment))
      .map((event) => ({ user: event.user.username, requestURI: event.requestURI }));

  it("refuses a reader's exec before any upgrade; the API server and the kubelet never see it", async () => {
    const exec = new Exec(pepKubeConfig(stack, await stack.token('agent-reader', ['reader'])));
    const out = collector();
    await assert.rejects(exec.exec('apps', 'web', 'main', ['sh', '-c', 'echo reader-probe'], out.stream, null, null, false), (error: unknown) => {
      assert.match(String((error as { message?: unknown }).message ?? error), /403/);
      return true;
    });
    assert.equal(out.text(), '');
    assert.deepEqual(await execsReached('reader-probe'), []);
    assert.equal(kubelet.requests.filter((path) => path.includes('reader-probe')).length, 0);
  });

  it("holds a writer's exec for approval naming the argv as sent (%20 spaces), and runs it once approved", async () => {
    const exec = new Exec(pepKubeConfig(stack, await stack.token('agent-writer', ['writer'])));
    const out = collector();
    let status: V1Status | undefined;
    const logsBefore = stack.logs.length;
    const running = exec.exec('apps', 'web', 'main', ['sh', '-c', 'echo from client-node'], out.stream, null, null, false, (given) => {
      status = given;
    });
    running.catch(() => undefined);

    const approvalId = await eventually('the PEP holds the exec for an approval', () => stack.logs.slice(logsBefore).map((line) => /approval required.*approval ([0-9a-f-]{36})/.exec(line)?.[1]).find(Boolean), { timeoutMs: 30_000 });
    assert.deepEqual(await execsReached('client-node'), [], 'nothing reached the API server while held');
    const approver = await stack.consoleToken('alice', ['approver']);
    const view = (await (await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}`, { headers: { authorization: `Bearer ${approver}` } })).json()) as { approval: { reasons?: { message: string }[] } };
    assert.ok(
      view.approval.reasons?.some((reason) => reason.message.includes('running ["sh","-c","echo from client-node"]')),
      `the approver is told the argv: ${JSON.stringify(view.approval)}`,
    );
    const vote = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve', reason: 'debugging' }),
    });
    assert.equal(vote.status, 200, await vote.text());

    const socket = await running;
    await eventually('the exec ends with its status', () => status !== undefined);
    socket.close();
    assert.equal(status?.status, 'Success');
    assert.equal(out.text(), 'ran: sh -c echo from client-node\r\n');
    const reached = await execsReached('client-node');
    assert.equal(reached.length, 1, 'one exec upgrade reached the API server');
    assert.equal(reached[0]?.user, 'portcullis-pep');
    assert.ok(reached[0]?.requestURI.includes('command=echo%20from%20client-node'), reached[0]?.requestURI);
    assert.ok(kubelet.requests.some((path) => new URL(path, 'https://kubelet').searchParams.getAll('command').includes('echo from client-node')), 'the kubelet was asked for the command');
  });
});
