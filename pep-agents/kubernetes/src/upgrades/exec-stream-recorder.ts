// What an exec or attach carried, recorded as the client saw it. With a terminal the session is
// an asciicast (the SDK's TerminalRecorder: output as sent to the client, input as typed, each
// resize); without one only its size is kept, in the session entry. The API server's closing
// status (the error channel) says how the command ended.
import type { CommandOutcome, TerminalRecorder } from '@portcullis/pep-core';
import { TerminalSizeReader } from './terminal-size-reader.ts';

const MAX_STATUS_BYTES = 64 * 1024;
/** How long the command's output may wait for its recording before the session ends. */
const RECORDING_WAIT_MS = 30_000;

export class RecordingBehindError extends Error {
  constructor() {
    super('the session recording cannot keep up, so the session ends');
    this.name = 'RecordingBehindError';
  }
}

export class ExecStreamRecorder {
  private readonly sizes = new TerminalSizeReader();
  private outputBytes = 0;
  private inputBytes = 0;
  private status: Buffer[] = [];
  private statusBytes = 0;
  private failure: string | undefined;

  /** @param terminal the asciicast recorder, for an exec or attach with a terminal. */
  constructor(private readonly terminal: TerminalRecorder | undefined) {}

  /** Bytes the client typed (stdin). */
  input(bytes: Buffer): void {
    this.inputBytes += bytes.length;
    this.terminal?.input(bytes);
  }

  /** Bytes the client was sent on stdout or stderr, exactly as sent. */
  output(bytes: Buffer): void {
    this.outputBytes += bytes.length;
    this.terminal?.output(bytes);
  }

  /** Whether a terminal session may open: its recording can take it now (no record, no session). */
  canRecord(): boolean {
    return this.terminal === undefined || this.terminal.canRecord();
  }

  /**
   * Resolves once the recording can take more output; the relay awaits it before reading the
   * API server again, so a command that prints faster than its record is stored slows to the
   * record's pace. Throws RecordingBehindError when the record stays behind.
   */
  async keepUp(): Promise<void> {
    if (this.terminal === undefined || this.terminal.canRecord()) return;
    if (!(await this.terminal.whenCanRecord(RECORDING_WAIT_MS))) throw new RecordingBehindError();
  }

  /** Bytes of the resize channel or stream. */
  resize(bytes: Buffer): void {
    for (const size of this.sizes.push(bytes)) this.terminal?.resize(size.cols, size.rows);
  }

  /** Bytes of the error channel or stream: the API server's Status for how the command ended. */
  statusBytesIn(bytes: Buffer): void {
    if (this.statusBytes + bytes.length > MAX_STATUS_BYTES) return;
    this.statusBytes += bytes.length;
    this.status.push(bytes);
  }

  /** The session ended before the command did (a protocol error, a record that could not keep up). */
  fail(reason: string): void {
    this.failure ??= reason;
  }

  /** Ends the recording; what the session entry says of the command. */
  finish(): CommandOutcome {
    this.terminal?.end();
    const ended = commandEnd(Buffer.concat(this.status));
    const error = this.failure ?? ended.error;
    return {
      status: error === undefined ? 'success' : 'failure',
      ...(error === undefined ? {} : { error }),
      bytes: this.outputBytes,
      kind: this.terminal ? 'exec-terminal' : 'exec',
    };
  }

  get totals(): { readonly inputBytes: number; readonly outputBytes: number } {
    return { inputBytes: this.inputBytes, outputBytes: this.outputBytes };
  }
}

/** How the Status on the error channel says the command ended; no Status at all is a success (v1 protocols send none). */
export function commandEnd(bytes: Buffer): { readonly error?: string } {
  if (bytes.length === 0) return {};
  let status: unknown;
  try {
    status = JSON.parse(bytes.toString('utf8'));
  } catch {
    // Protocols before v2 wrote the error as plain text.
    return { error: bytes.toString('utf8').slice(0, 512) };
  }
  if (typeof status !== 'object' || status === null) return { error: 'the API server sent an unreadable status' };
  const { status: state, message, details } = status as { status?: unknown; message?: unknown; details?: { causes?: { reason?: unknown; message?: unknown }[] } };
  if (state === 'Success') return {};
  const exitCode = details?.causes?.find((cause) => cause.reason === 'ExitCode')?.message;
  if (typeof exitCode === 'string') return { error: `exit status ${exitCode}` };
  return { error: typeof message === 'string' ? message.slice(0, 512) : 'the command failed' };
}
