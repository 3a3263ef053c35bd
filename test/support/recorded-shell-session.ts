/**
 * A shell session on web-1 as a PEP reports it, through the SDK to a real PDP: an interactive
 * shell opened under a `connect` decision and recorded (TerminalRecorder), a command run, one
 * denied, one held for approval, approved in the console's way and run once approved. What the
 * session's records, the `portcullis sessions` commands and the console's Sessions view read.
 */
import { HttpPdpTransport, PdpSessionEventSink, SessionRecorder, TerminalRecorder, type SessionEventSink, type SessionEventV1 } from '@portcullis/pep-core';
import { requestApproval, vote } from '../approvals/approval-fixtures.ts';
import type { TestPdp } from './pdp-harness.ts';

export const WEB_1 = { type: 'ssh', name: 'web-1', environment: 'production' } as const;

export interface RecordedShellSession {
  readonly sessionId: string;
  /** Every byte the recorder was told the client was sent, in order. */
  readonly output: Buffer;
  readonly decisions: { readonly connect: string; readonly ls: string; readonly denied: string; readonly held: string; readonly approved: string };
  readonly approvalId: string;
}

export interface RecordShellSessionOptions {
  readonly sessionId: string;
  readonly principal: string;
  /** What the shell printed, piece by piece (defaults to a short prompt-and-ls with non-UTF-8 bytes). */
  readonly outputPieces?: readonly Uint8Array[];
  /** Chunks with these seq numbers are not shipped: a recording with a gap. */
  readonly dropChunks?: readonly number[];
  /** Leave the recording without its final chunk (a session still open). */
  readonly unfinished?: boolean;
}

export const DEFAULT_OUTPUT_PIECES: readonly Uint8Array[] = [
  Buffer.from('\x1b[1;32mdana@web-1\x1b[0m:~$ '),
  Buffer.from('ls -l /var/log\r\n'),
  Buffer.from('total 4\r\n-rw-r----- 1 root adm 0 caf'),
  Uint8Array.of(0xc3),
  Uint8Array.of(0xa9, 0x2e, 0x6c, 0x6f, 0x67, 0xff, 0xfe, 0x0d, 0x0a),
  Buffer.from('✓ done 𝄞\r\n\x1b[1;32mdana@web-1\x1b[0m:~$ '),
];

export async function recordShellSession(pdp: TestPdp, options: RecordShellSessionOptions): Promise<RecordedShellSession> {
  const { sessionId } = options;
  const session = { id: sessionId, client_addr: '127.0.0.1' };
  const reader = await pdp.token({ sub: options.principal, roles: ['reader'], kind: 'human' });
  const writer = await pdp.token({ sub: options.principal, roles: ['reader', 'writer'], kind: 'human' });
  const approver = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  const decide = async (token: string, action: Record<string, unknown>, expected: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const { body } = await pdp.decide({ subject_token: token, resource: WEB_1, action, session, ...extra });
    if (body.effect !== expected) throw new Error(`expected ${expected} for ${JSON.stringify(action)}, got ${JSON.stringify(body)}`);
    return body.decision_id as string;
  };

  const transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
  const sink = new PdpSessionEventSink(transport, { flushIntervalMs: 10 });
  const shipped: SessionEventSink = options.dropChunks || options.unfinished ? withoutChunks(sink, options) : sink;
  const records = new SessionRecorder({ sink: shipped, session, protocol: 'shell', resource: WEB_1, subjectToken: reader });
  records.start();

  // An interactive shell needs write access (starter pack): the human opens it as a writer.
  const connect = await decide(writer, { type: 'connect', protocol: 'ssh', user: options.principal, channel: 'shell', pty: true }, 'allow');
  const terminal = new TerminalRecorder({
    sink: shipped, session, protocol: 'shell', resource: WEB_1, decisionId: connect, subjectToken: reader,
    terminal: { cols: 100, rows: 30, term: 'xterm-256color' }, chunkChars: 40, chunkIntervalMs: 60_000,
  });
  const pieces = options.outputPieces ?? DEFAULT_OUTPUT_PIECES;
  terminal.input(Buffer.from('ls -l /var/log\r'));
  for (const piece of pieces) terminal.output(piece);
  terminal.resize(120, 40);
  terminal.end();

  const ls = await decide(reader, { type: 'shell', command: 'ls -l /var/log' }, 'allow');
  records.statement({ text: 'ls -l /var/log', decisionId: ls, status: 'success', durationMs: 12, bytes: 120 });
  const denied = await decide(reader, { type: 'shell', command: 'rm -rf /var/lib/data' }, 'deny');
  const heldRequest = { subject_token: writer, resource: WEB_1, action: { type: 'shell', command: 'systemctl restart nginx' }, session };
  const held = await requestApproval(pdp, heldRequest);
  const voted = await vote(pdp.url, approver, held.id, 'approve', 'ticket OPS-7');
  if (voted.status !== 200) throw new Error(`the vote was refused: ${JSON.stringify(voted.body)}`);
  const approved = await decide(writer, heldRequest.action, 'allow', { approval_id: held.id });
  records.statement({ text: 'systemctl restart nginx', decisionId: approved, status: 'success', durationMs: 250, bytes: 0 });
  records.end('client-closed');

  const stats = await sink.close();
  transport.close();
  if (stats.rejected + stats.dropped + stats.lost > 0) throw new Error(`session events not recorded: ${JSON.stringify(stats)}`);
  return {
    sessionId,
    output: Buffer.concat(pieces.map((piece) => Buffer.from(piece))),
    decisions: { connect, ls, denied, held: held.decision.decision_id as string, approved },
    approvalId: held.id,
  };
}

/** A sink that loses the named chunks (and, for an unfinished recording, the final one). */
function withoutChunks(sink: SessionEventSink, options: RecordShellSessionOptions): SessionEventSink {
  const lost = (event: SessionEventV1): boolean =>
    event.event === 'session.recording' && ((options.dropChunks ?? []).includes(event.recording.seq) || (options.unfinished === true && event.recording.final === true));
  return {
    submit: (event) => (lost(event) ? true : sink.submit(event)),
    hasCapacity: () => sink.hasCapacity(),
    waitForCapacity: (timeoutMs) => sink.waitForCapacity(timeoutMs),
    flush: () => sink.flush(),
    close: () => sink.close(),
    stats: () => sink.stats(),
  };
}
