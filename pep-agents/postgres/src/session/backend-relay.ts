import type { Socket } from 'node:net';
import { encodeErrorResponse, BACKEND, decodeCommandTag, decodeNoticeFields, decodeReadyForQuery, type TransactionStatus } from '../protocol/backend-messages.ts';
import type { FramedMessage, MessageReader } from '../protocol/message-reader.ts';
import type { ClientChannel } from './client-channel.ts';
import type { PendingResponse, PendingResponses } from './pending-responses.ts';
import { PASS_THROUGH_SESSION_MESSAGES, type ResultMasker, type SessionMessageFilter } from './result-masker.ts';
import { adjacentRuns } from './adjacent-runs.ts';
import { checkParameterStatus } from './parser-sensitive-settings.ts';
import type { StatementRun } from './statement-run.ts';

export interface RelayHooks {
  statementFinished(run: StatementRun, status: 'success' | 'failure'): void;
  readyForQuery(status: TransactionStatus): void;
  /** SQL created or dropped prepared statements or cursors: protocol names can no longer be trusted. */
  namesChanged(): void;
  /** Masks the messages no statement owns (optional: else they pass as they are). */
  readonly sessionMessages?: SessionMessageFilter;
}

/** The server said something the PEP cannot place: relaying on would risk sending the wrong thing. */
export class LostTrackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LostTrackError';
  }
}

// Command tags of SQL that creates or drops what protocol messages refer to by name.
const NAME_CHANGING_TAGS = /^(PREPARE|DEALLOCATE|DEALLOCATE ALL|DISCARD ALL|DECLARE CURSOR|CLOSE CURSOR|CLOSE CURSOR ALL)$/;

type Output = Buffer | Promise<Buffer> | undefined;

/**
 * Upstream → client. Every server message is matched to what it answers (the pending queue),
 * results go through that statement's masker, statement outcomes are reported, and refused
 * messages' stand-in errors are swapped for the PEP's own. Messages leave in the order they came,
 * even when a masker has to wait.
 */
export class BackendRelay {
  private waiting = false;
  private stopped = false;
  /** Messages relayed by the pump's current pass, written together when it ends. */
  private readonly outgoing: Buffer[] = [];

  constructor(
    private readonly upstream: Socket,
    private readonly reader: MessageReader,
    private readonly client: ClientChannel,
    private readonly pending: PendingResponses,
    private readonly hooks: RelayHooks,
    private readonly fail: (error: unknown) => void,
  ) {}

  start(): void {
    this.upstream.on('data', (chunk: Buffer) => {
      this.reader.push(chunk);
      this.pump();
    });
    this.pump();
    this.upstream.resume();
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    if (this.waiting || this.stopped) return;
    try {
      for (;;) {
        const message = this.reader.nextMessage();
        if (!message) break;
        const output = this.handle(message);
        if (output === undefined) continue;
        if (Buffer.isBuffer(output)) {
          this.outgoing.push(output);
          continue;
        }
        this.waiting = true;
        this.upstream.pause();
        output.then(
          (bytes) => {
            this.waiting = false;
            if (this.stopped) return;
            // Leaves with the messages the pump relays after it, in one write.
            this.outgoing.push(bytes);
            this.upstream.resume();
            this.pump();
          },
          (error: unknown) => this.fail(error),
        );
        return;
      }
    } catch (error) {
      this.stopped = true;
      // What was relayed before the failure goes first, then whatever the failure tells the client.
      this.flush();
      this.fail(error);
    } finally {
      this.flush();
    }
  }

  /**
   * What one pass of the pump relays leaves in one socket write. Messages relayed as they came
   * are views of the bytes the server sent, usually side by side in one read: those are written
   * as one view, without a copy (a result's RowDescription, DataRows, CommandComplete and
   * ReadyForQuery are a single write of the server's own bytes).
   */
  private flush(): void {
    const outgoing = this.outgoing;
    if (outgoing.length === 0) return;
    const runs = adjacentRuns(outgoing);
    outgoing.length = 0;
    if (runs.length === 1) {
      this.send(runs[0]!);
      return;
    }
    this.client.cork();
    try {
      for (const run of runs) this.send(run);
    } finally {
      this.client.uncork();
    }
  }

  private send(bytes: Buffer): void {
    if (!this.client.write(bytes)) {
      this.upstream.pause();
      this.client.onDrain(() => {
        if (!this.waiting && !this.stopped) this.upstream.resume();
      });
    }
  }

  private handle(message: FramedMessage): Output {
    const head = this.pending.head;
    switch (message.type) {
      case BACKEND.parseComplete:
        this.expect(head, message, 'parse');
        this.pending.complete();
        return message.raw;
      case BACKEND.bindComplete:
        this.expect(head, message, 'bind');
        this.pending.complete();
        return message.raw;
      case BACKEND.closeComplete:
        this.expect(head, message, 'close');
        this.pending.complete();
        return message.raw;
      case BACKEND.parameterDescription:
        this.expect(head, message, 'describe');
        return message.raw;
      case BACKEND.noData:
        this.expect(head, message, 'describe');
        this.pending.complete();
        return message.raw;
      case BACKEND.rowDescription: {
        const owner = this.expect(head, message, 'describe', 'execute', 'query');
        if (owner.kind === 'describe') this.pending.complete();
        return owner.masker.onRowDescription(message.raw);
      }
      case BACKEND.dataRow: {
        const owner = this.expect(head, message, 'execute', 'query');
        owner.run.dataRows += 1;
        return counted(owner.run, owner.masker.onDataRow(message.raw));
      }
      case BACKEND.copyData: {
        const owner = this.expect(head, message, 'execute', 'query');
        return counted(owner.run, owner.masker.onCopyData(message.raw));
      }
      case BACKEND.copyOutResponse: {
        const owner = this.expect(head, message, 'execute', 'query');
        return owner.masker.onCopyOutResponse ? owner.masker.onCopyOutResponse(message.raw) : message.raw;
      }
      case BACKEND.copyInResponse:
      case BACKEND.copyBothResponse:
      case BACKEND.copyDone:
        this.expect(head, message, 'execute', 'query');
        return message.raw;
      case BACKEND.commandComplete: {
        const owner = this.expect(head, message, 'execute', 'query');
        const tag = decodeCommandTag(message.body);
        owner.run.addTag(tag);
        owner.masker.onCommandComplete?.(tag);
        if (NAME_CHANGING_TAGS.test(tag)) this.hooks.namesChanged();
        if (owner.kind === 'execute') this.finishExecute(owner.run, 'success');
        return message.raw;
      }
      case BACKEND.emptyQueryResponse: {
        const owner = this.expect(head, message, 'execute', 'query');
        if (owner.kind === 'execute') this.finishExecute(owner.run, 'success');
        return message.raw;
      }
      case BACKEND.portalSuspended: {
        const owner = this.expect(head, message, 'execute');
        owner.run.rows += owner.run.dataRows;
        this.finishExecute(owner.run, 'success');
        return message.raw;
      }
      case BACKEND.errorResponse:
        return this.handleError(head, message);
      case BACKEND.readyForQuery: {
        const owner = this.expect(head, message, 'sync', 'query', 'refusal');
        if (owner.kind === 'refusal' && !owner.simple) throw this.lost(message, owner);
        const status = decodeReadyForQuery(message.body);
        this.pending.complete();
        if (owner.kind === 'query') this.hooks.statementFinished(owner.run, owner.run.error === undefined ? 'success' : 'failure');
        this.hooks.readyForQuery(status);
        return message.raw;
      }
      case BACKEND.noticeResponse:
        return this.maskerOf(head).onErrorOrNotice(message.raw);
      case BACKEND.notificationResponse:
        return this.sessionMessages.onNotification(message.raw);
      case BACKEND.parameterStatus:
        // A change the PEP's analysis does not hold for ends the session before anything after it is relayed.
        checkParameterStatus(message.body);
        return this.sessionMessages.onParameterStatus(message.raw);
      default:
        throw this.lost(message, head);
    }
  }

  private handleError(head: PendingResponse | undefined, message: FramedMessage): Output {
    // No answer owed: a FATAL the server sends before it closes (shutdown, terminated backend).
    if (!head) return this.sessionMessages.onErrorOrNotice(message.raw);
    if (head.kind === 'refusal') {
      if (head.simple) {
        // The stand-in Query failed as intended; its ReadyForQuery completes the entry.
        return encodeErrorResponse(head.error);
      }
      this.pending.complete(false);
      this.pending.skipUntilSync();
      return encodeErrorResponse(head.error);
    }
    const output = this.maskerOf(head).onErrorOrNotice(message.raw);
    // The session record keeps the error as the client was shown it: in a masked session, no value.
    const fields = decodeNoticeFields(Buffer.isBuffer(output) ? output.subarray(5) : message.body);
    const text = `${fields.get('C') ?? ''} ${fields.get('M') ?? ''}`.trim();
    if (head.kind === 'query') {
      // A simple Query stops at its first error; ReadyForQuery follows.
      head.run.error ??= text;
      return output;
    }
    if (head.kind === 'execute') {
      head.run.error = text;
      this.hooks.statementFinished(head.run, 'failure');
    }
    // An error at Sync (a failed COMMIT) is followed by ReadyForQuery; anything else skips to Sync.
    if (head.kind !== 'sync') {
      this.pending.complete(false);
      this.pending.skipUntilSync();
    }
    return output;
  }

  /** The statement's masker, or for an answer to Parse, Bind, Sync … the session's. */
  private maskerOf(head: PendingResponse | undefined): Pick<ResultMasker, 'onErrorOrNotice'> {
    return head && 'masker' in head ? head.masker : this.sessionMessages;
  }

  private get sessionMessages(): SessionMessageFilter {
    return this.hooks.sessionMessages ?? PASS_THROUGH_SESSION_MESSAGES;
  }

  /** The head Execute completed (CommandComplete, EmptyQueryResponse, PortalSuspended). */
  private finishExecute(run: StatementRun, status: 'success'): void {
    this.pending.complete();
    this.hooks.statementFinished(run, status);
  }

  private expect<K extends PendingResponse['kind']>(
    head: PendingResponse | undefined,
    message: FramedMessage,
    ...kinds: K[]
  ): Extract<PendingResponse, { kind: K }> {
    if (!head || !(kinds as string[]).includes(head.kind)) throw this.lost(message, head);
    return head as Extract<PendingResponse, { kind: K }>;
  }

  private lost(message: FramedMessage, head: PendingResponse | undefined): LostTrackError {
    return new LostTrackError(`server message '${String.fromCharCode(message.type)}' while awaiting ${head ? head.kind : 'nothing'}`);
  }
}

function counted(run: StatementRun, output: Buffer | Promise<Buffer>): Buffer | Promise<Buffer> {
  if (Buffer.isBuffer(output)) {
    run.bytes += output.length;
    return output;
  }
  return output.then((bytes) => {
    run.bytes += bytes.length;
    return bytes;
  });
}
