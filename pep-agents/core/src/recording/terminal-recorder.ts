import { randomUUID } from 'node:crypto';
import {
  MAX_RECORDING_EVENT_DATA,
  MAX_RECORDING_EVENTS,
  RECORDING_FORMAT,
  TerminalTextDecoder,
  type AsciicastHeaderV1,
  type RecordingEventCode,
  type RecordingEventV1,
  type SessionProtocol,
  type SessionRecordingEventV1,
} from '@portcullis/contract';
import type { ResourceV1 } from '../decision-contract.ts';
import type { SessionEventSink } from '../session-event-sink.ts';
import { EchoedInputFilter } from './echoed-input-filter.ts';

export interface TerminalRecorderOptions {
  readonly sink: SessionEventSink;
  readonly session: { readonly id: string; readonly client_addr?: string };
  readonly protocol: SessionProtocol;
  readonly resource: ResourceV1;
  /** The decision that allowed the interactive session; every chunk names it. */
  readonly decisionId: string;
  /** The caller's token, sent with each chunk so the PDP names a verified principal. */
  readonly subjectToken?: string;
  /** The terminal as the client asked for it (the PTY request). */
  readonly terminal: { readonly cols: number; readonly rows: number; readonly term?: string };
  readonly title?: string;
  /** Characters of data a chunk gathers before it ships (default 64 Ki: fewer, larger records keep up with more output). */
  readonly chunkChars?: number;
  /** How long a chunk with data waits before it ships anyway (default 1 s), so a live view stays close. */
  readonly chunkIntervalMs?: number;
  /**
   * What the client typed (`i` events): `echoed` (the default) records only what the terminal
   * echoed back, so a password typed with echo off is never recorded (echoed-input-filter.ts);
   * `all` every keystroke; `none` nothing.
   */
  readonly input?: 'echoed' | 'all' | 'none';
  /** Milliseconds, monotonic; replaceable in tests. */
  readonly clock?: () => number;
  /** Wall-clock milliseconds for the header's timestamp; replaceable in tests. */
  readonly now?: () => number;
}

export interface TerminalRecordingTotals {
  /** Chunks handed to the sink. */
  readonly chunks: number;
  /** Chunks the sink refused (a gap in the recording). */
  readonly chunksDropped: number;
  readonly outputBytes: number;
  readonly inputBytes: number;
  /** Characters of typed text left out because the terminal never echoed them. */
  readonly inputWithheld: number;
  readonly resizes: number;
}

const DEFAULT_CHUNK_CHARS = 64 * 1024;
const DEFAULT_CHUNK_INTERVAL_MS = 1000;
const MAX_TITLE = 256;

/**
 * Records an interactive terminal session as asciicast v2, in ordered chunks shipped through the
 * session event path (`session.recording` events). The PEP hands it the bytes exactly as it sends
 * them to the client (after masking: what the recording holds is what the client saw) and as the
 * client typed them, and each resize; `end` ships the last chunk. Bytes are kept exactly
 * (terminal-bytes.ts in the contract), including a character split across two writes.
 *
 * Like SessionRecorder it never waits and never throws on the data path: a chunk the sink
 * refuses is counted (a gap the replay reports), and `canRecord` tells the PEP whether it should
 * keep the session open at all (no record, no session).
 */
export class TerminalRecorder {
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly header: AsciicastHeaderV1;
  private readonly outputText = new TerminalTextDecoder();
  private readonly inputText = new TerminalTextDecoder();
  private readonly chunkChars: number;
  private readonly chunkIntervalMs: number;
  private readonly inputMode: 'echoed' | 'all' | 'none';
  private readonly echoFilter = new EchoedInputFilter();
  private pending: RecordingEventV1[] = [];
  private pendingChars = 0;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private lastTime = 0;
  private finished = false;
  private counts = { chunks: 0, chunksDropped: 0, outputBytes: 0, inputBytes: 0, resizes: 0 };
  private readonly sessionPart: SessionRecordingEventV1['session'];
  private readonly resourcePart: SessionRecordingEventV1['resource'];

  constructor(private readonly options: TerminalRecorderOptions) {
    this.clock = options.clock ?? (() => performance.now());
    this.startedAt = this.clock();
    this.chunkChars = Math.max(options.chunkChars ?? DEFAULT_CHUNK_CHARS, 1);
    this.chunkIntervalMs = Math.max(options.chunkIntervalMs ?? DEFAULT_CHUNK_INTERVAL_MS, 1);
    this.inputMode = options.input ?? 'echoed';
    const { session, resource, terminal } = options;
    this.sessionPart = Object.freeze({ id: session.id, ...(session.client_addr === undefined ? {} : { client_addr: session.client_addr }) });
    this.resourcePart = Object.freeze({ type: resource.type, name: resource.name, ...(resource.environment === undefined ? {} : { environment: resource.environment }) });
    this.header = {
      version: 2,
      width: dimension(terminal.cols, 80),
      height: dimension(terminal.rows, 24),
      timestamp: Math.floor((options.now ?? Date.now)() / 1000),
      ...(terminal.term ? { env: { TERM: terminal.term.slice(0, 128) } } : {}),
      ...(options.title ? { title: options.title.slice(0, MAX_TITLE) } : {}),
    };
  }

  get totals(): TerminalRecordingTotals {
    return { ...this.counts, inputWithheld: this.echoFilter.withheld };
  }

  get ended(): boolean {
    return this.finished;
  }

  /** Whether the recording can keep up; when not, the PEP ends the session rather than run it unrecorded. */
  canRecord(): boolean {
    return !this.finished && this.options.sink.hasCapacity();
  }

  /**
   * Resolves true once the recording can take more (at once when it can), false when `timeoutMs`
   * passed first or it ended. A PEP pauses the host's output while it waits, so a session that
   * prints faster than its record is stored slows down to the record's pace instead of running
   * unrecorded; it ends the session on false.
   */
  async whenCanRecord(timeoutMs: number): Promise<boolean> {
    if (this.finished) return false;
    if (this.options.sink.hasCapacity()) return true;
    return (await this.options.sink.waitForCapacity(timeoutMs)) && !this.finished;
  }

  /** Bytes sent to the client's terminal, exactly as sent (after masking). */
  output(bytes: Uint8Array): void {
    if (this.finished || bytes.length === 0) return;
    this.counts.outputBytes += bytes.length;
    const text = this.outputText.write(bytes);
    // Typed text this output echoes is recorded first, at the same time: the order stays true.
    if (this.inputMode === 'echoed') this.add('i', this.echoFilter.echoed(text));
    this.add('o', text);
  }

  /** Bytes the client typed, as received. */
  input(bytes: Uint8Array): void {
    if (this.finished || bytes.length === 0 || this.inputMode === 'none') return;
    this.counts.inputBytes += bytes.length;
    const text = this.inputText.write(bytes);
    this.add('i', this.inputMode === 'echoed' ? this.echoFilter.typed(text) : text);
  }

  /** The client's terminal changed size (an SSH window-change). */
  resize(cols: number, rows: number): void {
    if (this.finished) return;
    this.counts.resizes += 1;
    this.add('r', `${dimension(cols, this.header.width)}x${dimension(rows, this.header.height)}`);
  }

  /** A marker (asciicast `m`): a point a player can jump to, such as an approval or a notice. */
  marker(label: string): void {
    if (this.finished) return;
    this.add('m', label.slice(0, 256));
  }

  /** Ships what is gathered now (a chunk, if there is anything to ship). */
  flush(): void {
    if (this.finished) return;
    this.ship(false);
  }

  /** Ships the last chunk (what an unfinished character held back included); later calls do nothing. */
  end(): void {
    if (this.finished) return;
    const lastOutput = this.outputText.end();
    if (this.inputMode === 'echoed') this.add('i', this.echoFilter.echoed(lastOutput));
    this.add('o', lastOutput);
    if (this.inputMode === 'all') this.add('i', this.inputText.end());
    if (this.inputMode === 'echoed') this.add('i', this.echoFilter.typed(this.inputText.end()) + this.echoFilter.end());
    this.ship(true);
    this.finished = true;
  }

  private add(code: RecordingEventCode, text: string): void {
    if (text.length === 0) return;
    const time = this.elapsedSeconds();
    // A long write is split over events (each within the contract's bound), never over a surrogate pair.
    for (let start = 0; start < text.length; ) {
      const room = Math.max(Math.min(MAX_RECORDING_EVENT_DATA, this.chunkChars - this.pendingChars), 1);
      let end = Math.min(start + room, text.length);
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1)) && end - start > 1) end -= 1;
      this.pending.push([time, code, text.slice(start, end)]);
      this.pendingChars += end - start;
      start = end;
      if (this.pendingChars >= this.chunkChars || this.pending.length >= MAX_RECORDING_EVENTS) this.ship(false);
    }
    if (this.pending.length > 0 && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.chunkIntervalMs);
      this.timer.unref();
    }
  }

  private ship(final: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Chunk 0 always ships (it carries the header), the last one too (it says the recording is whole).
    if (this.pending.length === 0 && this.seq > 0 && !final) return;
    const event: SessionRecordingEventV1 = {
      event_id: randomUUID(),
      time: new Date().toISOString(),
      ...(this.options.subjectToken ? { subject_token: this.options.subjectToken } : {}),
      session: this.sessionPart,
      protocol: this.options.protocol,
      resource: this.resourcePart,
      event: 'session.recording',
      decision_id: this.options.decisionId,
      recording: {
        format: RECORDING_FORMAT,
        seq: this.seq,
        ...(this.seq === 0 ? { header: this.header } : {}),
        events: this.pending,
        ...(final ? { final: true } : {}),
      },
    };
    this.seq += 1;
    this.pending = [];
    this.pendingChars = 0;
    this.counts.chunks += 1;
    if (!this.options.sink.submit(event)) this.counts.chunksDropped += 1;
  }

  private elapsedSeconds(): number {
    const seconds = (this.clock() - this.startedAt) / 1000;
    // Microseconds, as asciinema writes them; never negative, never before the previous event.
    const time = Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1e6) / 1e6 : 0;
    this.lastTime = Math.max(this.lastTime, time);
    return this.lastTime;
  }
}

function dimension(value: number, fallback: number): number {
  return Number.isInteger(value) && value >= 1 && value <= 10_000 ? value : fallback;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
