// ssh -L and -D (direct-tcpip): the host connects out to host:port for the client, decided as an
// outbound `network` action before anything is opened upstream; the tunnel is one session entry.
import { clientSafeText } from '@portcullis/pep-core';
import type { ClientChannel, ServerChannel, TcpipRequestInfo } from 'ssh2';
import type { SshConnectionContext } from '../server/ssh-connection-context.ts';
import { decideForwarding } from './network-decision.ts';

export async function openLocalForward(context: SshConnectionContext, accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo): Promise<void> {
  const target = `${info.destIP}:${info.destPort}`;
  const answer = await decideForwarding(context, 'outbound', info.destIP, info.destPort);
  if (answer.effect !== 'allow') {
    context.log(`refused forwarding to ${clientSafeText(target)}: ${answer.effect} ${answer.reasons.map((reason) => reason.code).join(', ')}`, {
      session: context.session.id,
      decision_id: answer.decision_id,
    });
    return reject();
  }
  let remote: ClientChannel;
  try {
    const upstream = await context.upstream();
    remote = await new Promise<ClientChannel>((resolve, fail) =>
      upstream.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (error, stream) => (error ? fail(error) : resolve(stream))),
    );
  } catch (error) {
    context.log(`forwarding to ${clientSafeText(target)} failed upstream: ${error instanceof Error ? error.message : String(error)}`, { session: context.session.id });
    return reject();
  }
  const channel = accept();
  const startedAt = performance.now();
  let bytes = 0;
  remote.on('data', (chunk: Buffer) => (bytes += chunk.length));
  channel.pipe(remote).pipe(channel);
  channel.once('close', () => remote.close());
  // Resolves (and the tunnel is on the record) when the tunnel closes, however it ends: a dead
  // connection's channels may never say so, so the connection's end ends it too.
  await new Promise<void>((resolve) => {
    remote.once('close', () => resolve());
    context.closed.addEventListener('abort', () => resolve(), { once: true });
  });
  remote.close();
  channel.close();
  context.recorder.statement({ text: `forward to ${target}`, kind: 'network', decisionId: answer.decision_id, status: 'success', durationMs: performance.now() - startedAt, bytes });
}
