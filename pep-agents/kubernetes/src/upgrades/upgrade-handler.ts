// One exec, attach or port-forward upgrade, as a story: read what it asks for → decide it (the
// session's command gate: a `kubernetes` action with its path and query) → refused: a Status,
// no upgrade, nothing sent upstream → allowed: open the upgrade at the API server with the PEP's
// credential, relay the 101 (or the API server's refusal), then relay the streams both ways,
// recording them; the session entry is written when the session ends.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CommandOutcome, DecisionAnswer, TerminalRecorder } from '@portcullis/pep-core';
import type { KubeMask } from '../pipeline/kube-masks.ts';
import type { UpgradeContext, UpgradeHandler } from '../pipeline/upgrade-handler.ts';
import { kubeStatus, statusResponseHead } from '../status/kube-status.ts';
import { channelProtocol } from './channel-protocol.ts';
import { ExecStreamRecorder, RecordingBehindError } from './exec-stream-recorder.ts';
import { queryWithPort } from './port-forward-ports.ts';
import { PortForwardRecorder } from './port-forward-recorder.ts';
import { socketWriter } from './socket-writer.ts';
import { SpdySessionRelay, type PortDecider, type SpdyPurpose } from './spdy-session-relay.ts';
import { isUpgradeRefusal, planUpgrade, type UpgradePlan } from './upgrade-plan.ts';
import { openUpstreamUpgrade, switchingProtocolsHead } from './upstream-handshake.ts';
import { WebSocketChannelRelay } from './websocket-channel-relay.ts';
import { SPDY_TUNNEL_PROTOCOL, WebSocketSpdyTunnel } from './websocket-spdy-tunnel.ts';

/** The largest WebSocket message or SPDY frame relayed. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** The API server's refusal of an upgrade is a small Status; more is not relayed. */
const MAX_REFUSAL_BODY = 64 * 1024;

/** The upgrades part of the PEP, plugged in at the core's upgrade seam. */
export const handleUpgrade: UpgradeHandler = async (context) => {
  const client = context.socket;
  // Nothing the client sends is read before the decision; it waits in the socket.
  client.pause();
  client.on('error', () => client.destroy());
  const plan = planUpgrade(context.request);
  if (isUpgradeRefusal(plan)) {
    client.end(statusResponseHead(kubeStatus(plan.code, `portcullis: ${plan.message}`)));
    return;
  }
  try {
    const run = await context.session.gate.run({ request: context.request }, (answer) => relay(context, plan, answer));
    if (!run.ran) client.end(statusResponseHead(run.refusal));
  } catch (error) {
    context.log('upgrade failed', { session: context.session.id, path: context.request.path, error: error instanceof Error ? error.message : String(error) });
    if (client.writable && !headSent.has(client)) client.end(statusResponseHead(kubeStatus(502, 'portcullis: the API server could not be reached for this upgrade')));
    else client.destroy();
  }
};

/** Clients already sent a 101 (or a relayed response): a later failure can only close them. */
const headSent = new WeakSet<Duplex>();

async function relay(context: UpgradeContext, plan: UpgradePlan, decision: DecisionAnswer<KubeMask>): Promise<CommandOutcome> {
  const { request } = context;
  const client = context.socket;
  // Streams are relayed as they are: an allow that asks for masking cannot be honoured here.
  if (decision.obligations.mask.length > 0) {
    headSent.add(client);
    client.end(statusResponseHead(kubeStatus(403, `portcullis: policy allows this only with masking, which exec, attach and port-forward streams cannot have [decision ${decision.decision_id}]`)));
    return { status: 'failure', error: 'masking asked for a stream', kind: 'upgrade-refused' };
  }
  // A terminal session is recorded whole or not opened: no record, no session.
  const terminal = plan.tty ? context.terminalRecorder({ decisionId: decision.decision_id, terminal: { cols: 80, rows: 24 }, title: commandTitle(request.rawQuery) }) : undefined;
  if (terminal !== undefined && !terminal.canRecord()) {
    terminal.end();
    headSent.add(client);
    client.end(statusResponseHead(kubeStatus(503, 'portcullis: the session recording is not keeping up, so no terminal session opens; try again shortly')));
    return { status: 'failure', error: new RecordingBehindError().message, kind: 'upgrade-refused' };
  }
  // Not given the PEP-wide stop signal: a connection outlives its connect, and the relay below ends it on a stop.
  let answer: Awaited<ReturnType<typeof openUpstreamUpgrade>>;
  try {
    answer = await openUpstreamUpgrade(context.upstream, request, plan, context.impersonationFor(decision));
  } catch (error) {
    terminal?.end();
    throw error;
  }
  if (answer.kind === 'response') {
    terminal?.end();
    return relayRefusal(client, answer.response);
  }
  headSent.add(client);
  client.write(switchingProtocolsHead(answer.response, plan, answer.protocol));
  const upstream = answer.socket;
  upstream.on('error', () => upstream.destroy());
  // The PEP stopping ends the session.
  const stop = (): void => {
    client.destroy();
    upstream.destroy();
  };
  if (context.signal.aborted) stop();
  else context.signal.addEventListener('abort', stop, { once: true });
  try {
    return await relayStreams(context, plan, terminal, answer.protocol, answer.head, upstream);
  } finally {
    context.signal.removeEventListener('abort', stop);
  }
}

/** The streams both ways until the session ends, recorded; what its session entry says. */
async function relayStreams(context: UpgradeContext, plan: UpgradePlan, terminal: TerminalRecorder | undefined, protocol: string, upstreamHead: Buffer, upstream: Duplex): Promise<CommandOutcome> {
  const channels = channelProtocol(protocol);
  if (plan.subresource !== 'portforward') {
    const recorder = new ExecStreamRecorder(terminal);
    const failed = (reason: string): void => recorder.fail(reason);
    const keepUp = (): Promise<void> => recorder.keepUp();
    if (plan.transport === 'websocket' && channels) {
      await relayChannels(context, upstreamHead, upstream, new WebSocketChannelRelay(channels, { kind: 'exec', recorder }, MAX_FRAME_BYTES), failed, keepUp);
    } else {
      await relaySpdy(context, upstreamHead, upstream, { kind: 'exec', recorder }, false, failed, keepUp);
    }
    return recorder.finish();
  }
  const recorder = new PortForwardRecorder();
  const failed = (reason: string): void => recorder.fail(reason);
  if (plan.transport === 'websocket' && channels) {
    await relayChannels(context, upstreamHead, upstream, new WebSocketChannelRelay(channels, { kind: 'port-forward', recorder, ports: plan.ports ?? [] }, MAX_FRAME_BYTES), failed);
  } else {
    await relaySpdy(context, upstreamHead, upstream, { kind: 'port-forward', recorder, ports: portDecider(context, plan) }, protocol === SPDY_TUNNEL_PROTOCOL, failed);
  }
  return recorder.finish();
}

/** Channel-protocol WebSocket frames, passed as they came and read on the way. */
async function relayChannels(context: UpgradeContext, upstreamHead: Buffer, upstream: Duplex, reader: WebSocketChannelRelay, failed: (reason: string) => void, keepUp = noWait): Promise<void> {
  const toClient = socketWriter(context.socket);
  const toServer = socketWriter(upstream);
  await pipe(context.socket, upstream, context.head, upstreamHead, {
    fromClient: async (chunk) => {
      reader.fromClient(chunk);
      await toServer(chunk);
    },
    fromServer: async (chunk) => {
      reader.fromServer(chunk);
      await toClient(chunk);
      await keepUp();
    },
    failed,
  });
}

/** A SPDY session, on the upgraded connection itself or tunnelled in WebSocket messages. */
async function relaySpdy(context: UpgradeContext, upstreamHead: Buffer, upstream: Duplex, purpose: SpdyPurpose, tunnelled: boolean, failed: (reason: string) => void, keepUp = noWait): Promise<void> {
  const toClient = socketWriter(context.socket);
  const toServer = socketWriter(upstream);
  if (!tunnelled) {
    const spdy = new SpdySessionRelay({ purpose, toClient, toServer, maxFrameBytes: MAX_FRAME_BYTES });
    try {
      await pipe(context.socket, upstream, context.head, upstreamHead, { fromClient: (chunk) => spdy.fromClient(chunk), fromServer: async (chunk) => {
          await spdy.fromServer(chunk);
          await keepUp();
        }, failed });
    } finally {
      spdy.close();
    }
    return;
  }
  const tunnel = new WebSocketSpdyTunnel({ maxMessageBytes: MAX_FRAME_BYTES, toClient, toServer });
  const spdy = new SpdySessionRelay({ purpose, toClient: tunnel.clientBound, toServer: tunnel.serverBound, maxFrameBytes: MAX_FRAME_BYTES });
  tunnel.attach(spdy);
  try {
    await pipe(context.socket, upstream, context.head, upstreamHead, { fromClient: (chunk) => tunnel.fromClient(chunk), fromServer: async (chunk) => {
        await tunnel.fromServer(chunk);
        await keepUp();
      }, failed });
  } finally {
    spdy.close();
  }
}

/** The ports a port-forward may reach: those the query named, or each one decided as it is first asked for. */
function portDecider(context: UpgradeContext, plan: UpgradePlan): PortDecider {
  if (plan.ports !== undefined) {
    const named = new Set(plan.ports);
    return { allows: async (port) => named.has(port) };
  }
  const decided = new Map<number, Promise<boolean>>();
  return {
    allows(port) {
      let verdict = decided.get(port);
      if (verdict === undefined) {
        // Decided now or never: a stream cannot wait for an approval (the client is told to ask again).
        const request = { ...context.request, rawQuery: queryWithPort(context.request.rawQuery, port) };
        verdict = context.session.gate.decide({ request }, { approvalWaitMs: 0 }).then(
          (decided) => decided.allowed && decided.answer.obligations.mask.length === 0,
          () => false,
        );
        decided.set(port, verdict);
      }
      return verdict;
    },
  };
}

interface PipeHandlers {
  readonly fromClient: (chunk: Buffer) => Promise<void>;
  readonly fromServer: (chunk: Buffer) => Promise<void>;
  readonly failed: (reason: string) => void;
}

/**
 * Both directions until both ended; a side that ends is half-closed toward the other, an error
 * or a protocol violation on either ends both (nothing is relayed unread).
 */
async function pipe(client: Duplex, upstream: Duplex, clientHead: Buffer, upstreamHead: Buffer, handlers: PipeHandlers): Promise<void> {
  const stop = (reason: string): void => {
    handlers.failed(reason);
    client.destroy();
    upstream.destroy();
  };
  const direction = async (source: Duplex, head: Buffer, handle: (chunk: Buffer) => Promise<void>, sink: Duplex): Promise<void> => {
    try {
      if (head.length > 0) await handle(head);
      for await (const chunk of source) await handle(chunk as Buffer);
      if (!sink.destroyed) sink.end();
    } catch (error) {
      stop(error instanceof Error ? error.message : String(error));
    }
  };
  await Promise.all([direction(client, clientHead, handlers.fromClient, upstream), direction(upstream, upstreamHead, handlers.fromServer, client)]);
}

async function relayRefusal(client: Duplex, response: IncomingMessage): Promise<CommandOutcome> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_REFUSAL_BODY) break;
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const code = response.statusCode ?? 502;
  const contentType = typeof response.headers['content-type'] === 'string' ? response.headers['content-type'].replace(/[^\x20-\x7e]/g, '') : 'text/plain';
  headSent.add(client);
  client.end(
    Buffer.concat([
      Buffer.from(`HTTP/1.1 ${code} ${(response.statusMessage ?? '').replace(/[^\x20-\x7e]/g, '')}\r\ncontent-type: ${contentType}\r\ncontent-length: ${body.length}\r\ncache-control: no-cache, private\r\nconnection: close\r\n\r\n`, 'latin1'),
      body,
    ]),
  );
  response.socket?.destroy();
  return { status: 'failure', error: `HTTP ${code}: ${statusMessage(body)}`, bytes: body.length, kind: 'upgrade-refused' };
}

function statusMessage(body: Buffer): string {
  try {
    const status = JSON.parse(body.toString('utf8')) as { message?: unknown };
    if (typeof status.message === 'string') return status.message.slice(0, 512);
  } catch {
    // Not a Status: its text, cut short.
  }
  return body.toString('utf8').slice(0, 256);
}

/** A relay that never waits for a recording (port-forward, exec without a terminal). */
async function noWait(): Promise<void> {}

/** The command an exec asks for, as the recording's title. */
function commandTitle(rawQuery: string): string {
  return new URLSearchParams(rawQuery).getAll('command').join(' ');
}
