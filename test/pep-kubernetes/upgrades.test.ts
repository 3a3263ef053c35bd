// exec, attach and port-forward through the PEP with the real kubectl, on both upgrade protocols
// (WebSocket, as current kubectl speaks first, and SPDY/3.1), to the real API server. Pods bound
// to a stand-in kubelet get past the API server, so the streams flow and are recorded; a pod with
// no node stops at the API server ("does not have a host assigned"), which proves the request
// reached it. Denied upgrades get a Status and never reach the API server (its audit log).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { sessionsCli } from '../support/sessions-cli.ts';
import { startKubePepStack, type KubePepStack } from './pep-stack.ts';
import { createBoundPod, startStandInKubelet, type StandInKubelet } from './stand-in-kubelet.ts';
import { upgradeTestPolicyBundle } from './upgrade-test-policy.ts';

const SPDY_EXEC = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
const SPDY_PORT_FORWARD = { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
const PROTOCOLS = [
  { name: 'WebSocket', exec: {}, portForward: {} },
  { name: 'SPDY/3.1', exec: SPDY_EXEC, portForward: SPDY_PORT_FORWARD },
] as const;

let stack: KubePepStack;
let kubelet: StandInKubelet;
let writer: string;

before(async () => {
  stack = await startKubePepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: upgradeTestPolicyBundle() } });
  kubelet = await startStandInKubelet(stack.kube);
  await stack.kube.createNamespace('apps');
  await createBoundPod(stack.kube, kubelet, 'apps', 'web');
  // No node: the API server refuses the upgrade itself.
  await stack.kube.kubectlOk(['run', 'unscheduled', '-n', 'apps', '--image=busybox', '--restart=Never']);
  writer = await stack.token('agent-writer', ['writer']);
});
after(async () => {
  await kubelet?.stop();
  await stack?.close();
});

/** The API server's audit events (one per request: its completion) of one subresource (exec, attach, portforward) of a pod. */
async function upgradesAt(pod: string, subresource: string): Promise<{ requestURI: string; user: string; code?: number }[]> {
  const events = await stack.kube.settledAuditEvents();
  return events
    .filter((event) => event.stage === 'ResponseComplete' && event.objectRef?.subresource === subresource && event.objectRef?.name === pod)
    .map((event) => ({ requestURI: event.requestURI, user: event.user.username, ...(event.responseStatus?.code === undefined ? {} : { code: event.responseStatus.code }) }));
}

async function statementsNamed(fragment: string): Promise<{ text: string; status: unknown; error?: unknown; kind?: string }[]> {
  const bodies = sessionStatementBodies(await stack.pdp.auditEvents('sessions'));
  return bodies.filter((body) => body.statement.text.includes(fragment)).map((body) => ({ text: body.statement.text, status: body.status, ...(body.error === undefined ? {} : { error: body.error }), ...(body.statement.kind ? { kind: body.statement.kind } : {}) }));
}

describe('kubectl exec and attach through the PEP', () => {
  for (const protocol of PROTOCOLS) {
    it(`runs an allowed exec over ${protocol.name}: the API server and the kubelet get exactly the command, the record names it`, async () => {
      const word = `hello-${protocol.name.replace(/\W/g, '')}`;
      const result = await stack.kubectl(writer, ['exec', '-n', 'apps', 'web', '--', 'sh', '-c', `echo ${word}`], { env: protocol.exec });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `ran: sh -c echo ${word}\r\n`);
      const upgrades = (await upgradesAt('web', 'exec')).filter((event) => event.requestURI.includes(word));
      assert.equal(upgrades.length, 1, 'one upgrade reached the API server (no fallback was needed)');
      assert.equal(upgrades[0]!.user, 'portcullis-pep');
      assert.ok(kubelet.requests.some((path) => path.includes(`command=echo+${word}`)), 'the kubelet was asked for the command');
      const statements = await eventually('the exec in the session record', async () => {
        const found = await statementsNamed(`echo+${word}`);
        return found.length > 0 ? found : undefined;
      });
      assert.equal(statements.length, 1);
      assert.equal(statements[0]!.status, 'success');
      assert.match(statements[0]!.text, protocol.name === 'WebSocket' ? /^GET \/api\/v1\/namespaces\/apps\/pods\/web\/exec\?command=sh&command=-c&command=echo\+/ : /^POST \/api\/v1\/namespaces\/apps\/pods\/web\/exec\?command=sh/);
    });

    it(`relays stdin both ways over ${protocol.name}`, async () => {
      const result = await stack.kubectl(writer, ['exec', '-i', '-n', 'apps', 'web', '--', 'cat'], { env: protocol.exec, input: 'typed line\nexit\n' });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'ran: cat\r\necho: typed line\nexit\n');
    });

    it(`refuses a denied exec over ${protocol.name} with a Status, and it never reaches the API server`, async () => {
      const result = await stack.kubectl(writer, ['exec', '-n', 'apps', 'web', '--', 'sh', '-c', 'echo forbidden'], { env: protocol.exec });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /Error from server \(Forbidden\): portcullis: denied by policy/);
      assert.deepEqual((await upgradesAt('web', 'exec')).filter((event) => event.requestURI.includes('forbidden')), []);
      assert.ok(!kubelet.requests.some((path) => path.includes('forbidden')));
    });

    it(`sends an allowed exec over ${protocol.name} to the API server even when it fails there (no node), and records the failure`, async () => {
      const result = await stack.kubectl(writer, ['exec', '-n', 'apps', 'unscheduled', '--', 'date'], { env: protocol.exec });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /pod unscheduled does not have a host assigned/);
      const upgrades = await upgradesAt('unscheduled', 'exec');
      assert.ok(upgrades.length >= 1 && upgrades.every((event) => event.code === 400 && event.user === 'portcullis-pep'), JSON.stringify(upgrades));
      const statements = await eventually('the failed exec in the session record', async () => {
        const found = (await statementsNamed('/pods/unscheduled/exec?command=date')).filter((entry) => entry.status === 'failure');
        return found.length > 0 ? found : undefined;
      });
      assert.match(String(statements[0]!.error), /does not have a host assigned/);
    });
  }

  for (const protocol of PROTOCOLS) {
    it(`records an exec with a terminal over ${protocol.name} as asciicast: output as kubectl printed it, the resize, replayable`, async () => {
      const subject = `agent-tty-${protocol.name.replace(/\W/g, '').toLowerCase()}`;
      const token = await stack.token(subject, ['writer']);
      const kubectl = [stack.kube.kubectlPath, 'exec', '-it', '-n', 'apps', 'web', '--', 'sh'].join(' ');
      // script gives kubectl a terminal (of a known size, so it sends a resize).
      const child = spawn('script', ['-qfec', `stty cols 100 rows 30; ${kubectl}`, '/dev/null'], {
        env: { PATH: process.env.PATH, HOME: stack.clientDir, KUBECONFIG: stack.kubeconfig(token), ...protocol.exec },
      });
      let printed = '';
      child.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await eventually('the command started', () => printed.includes('ran: sh'));
      child.stdin.write('whoami-typed\r');
      await eventually('the typed line echoed', () => printed.includes('echo: whoami-typed'));
      child.stdin.write('exit\r');
      assert.equal(await exited, 0, printed);
      assert.match(printed, /resized \{"Width":100,"Height":30\}/);

      const session = await eventually('the session listed with its whole recording', async () => {
        const listed = await sessionsCli(stack.pdp.stateDir, 'list', '--principal', subject, '--json');
        return (JSON.parse(listed.stdout.toString('utf8')) as { id: string; recording?: { final: boolean; missing: number[] } }[]).find((each) => each.recording?.final === true);
      });
      assert.deepEqual(session.recording?.missing, []);
      const cast = await sessionsCli(stack.pdp.stateDir, 'replay', session.id, '--cast');
      const [header, ...events] = cast.stdout.toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
      assert.equal((header as { version: number }).version, 2);
      const output = (events as [number, string, string][]).filter(([, code]) => code === 'o').map(([, , data]) => data).join('');
      assert.ok(output.includes('ran: sh') && output.includes('echo: whoami-typed'), output);
      assert.ok(printed.includes(output.trimEnd()), 'the recording holds what kubectl printed');
      assert.deepEqual((events as [number, string, string][]).filter(([, code]) => code === 'r').map(([, , data]) => data).slice(0, 1), ['100x30']);
    });
  }

  for (const protocol of PROTOCOLS) {
    it(`runs an allowed attach over ${protocol.name}`, async () => {
      const before = (await upgradesAt('web', 'attach')).length;
      const result = await stack.kubectl(writer, ['attach', '-n', 'apps', 'web'], { env: protocol.exec });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /ran: \(attach\)/);
      assert.equal((await upgradesAt('web', 'attach')).length, before + 1);
    });
  }
});

/** kubectl port-forward to a local port the kernel picks; resolves with that port and a stop. */
async function portForward(env: Record<string, string>, remotePort: number): Promise<{ port: number; output: () => string; stop: () => void }> {
  const child = spawn(stack.kube.kubectlPath, ['port-forward', '-n', 'apps', 'pod/web', `:${remotePort}`], {
    env: { PATH: process.env.PATH, HOME: stack.clientDir, KUBECONFIG: stack.kubeconfig(writer), ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await eventually('kubectl port-forward listening', () => {
    const match = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(output);
    return match ? Number(match[1]) : undefined;
  });
  return { port, output: () => output, stop: () => child.kill() };
}

/** Sends `text` through the local port; resolves with everything that came back before the connection closed or `expected` appeared. */
function exchange(port: number, text: string, expected: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes(expected)) socket.destroy();
    });
    socket.on('close', () => resolve(received));
    socket.on('error', () => undefined);
  });
}

describe('kubectl port-forward through the PEP', () => {
  for (const protocol of PROTOCOLS) {
    it(`forwards a decided port over ${protocol.name}, and refuses a stream to a port policy denies before the API server sees it`, async () => {
      const allowed = await portForward(protocol.portForward, 8080);
      try {
        const reply = await exchange(allowed.port, `ping-${protocol.name}`, `ping-${protocol.name}`);
        assert.equal(reply, `port 8080: ping-${protocol.name}`);
      } finally {
        allowed.stop();
      }
      const seenBefore = kubelet.streams.length;
      const denied = await portForward(protocol.portForward, 22);
      try {
        const reply = await exchange(denied.port, 'SSH-2.0-probe\r\n', 'never');
        assert.equal(reply, '', 'nothing came back from port 22');
        await eventually('kubectl reports the refused stream', () => /error|refused|reset|lost/i.test(denied.output()));
      } finally {
        denied.stop();
      }
      assert.deepEqual(kubelet.streams.slice(seenBefore).filter((stream) => stream.headers.port === '22'), [], 'no stream to port 22 reached the kubelet');
      const statements = await eventually('the refused port in the session record', async () => {
        const found = (await statementsNamed('/pods/web/portforward')).filter((entry) => /port not decided\): 22/.test(String(entry.error ?? '')));
        return found.length > 0 ? found : undefined;
      });
      assert.equal(statements[0]!.status, 'failure');
    });
  }
});
