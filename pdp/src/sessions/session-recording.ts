import type { AsciicastHeaderV1, RecordingEventV1 } from '@portcullis/contract';
import { asArray, asNonNegative, asObject, asString, type JsonObject } from '../audit/json-fields.ts';
import type { AuditReader } from '../audit/verification/readers/audit-reader.ts';
import { auditBodyOf } from '../audit/ocsf/portcullis-body.ts';

/** An interactive session's recording put back together from its chunks on the sessions stream. */
export interface StoredRecording {
  readonly sessionId: string;
  /** The asciicast header (chunk 0's); absent when chunk 0 is missing. */
  readonly header: AsciicastHeaderV1 | undefined;
  /** Every event of every chunk found, in chunk order. */
  readonly events: readonly RecordingEventV1[];
  readonly chunks: number;
  /** Chunk numbers missing below the highest one found (lost or removed). */
  readonly missing: readonly number[];
  /** Whether the last chunk (`final`) was found: the recording ran to the session's end. */
  readonly final: boolean;
}

/**
 * Reads one session's recording from the sessions stream (JSONL or Kafka): its `session.recording`
 * records, ordered by `recording.seq`. A chunk stored twice (a batch resent after a lost answer)
 * counts once. Undefined when the session has no recording. Whether the records are untampered
 * is `portcullis audit verify`'s question; this says what is missing.
 */
export async function readRecording(reader: AuditReader, sessionId: string): Promise<StoredRecording | undefined> {
  const chunks = new Map<number, JsonObject>();
  for await (const { record } of reader.read('sessions')) {
    const body = auditBodyOf(record);
    if (body?.event !== 'session.recording' || asString(asObject(body.session)?.id) !== sessionId) continue;
    const recording = asObject(body.recording);
    const seq = asNonNegative(recording?.seq);
    if (recording === undefined || seq === undefined || !Number.isInteger(seq) || chunks.has(seq)) continue;
    chunks.set(seq, recording);
  }
  if (chunks.size === 0) return undefined;
  const order = [...chunks.keys()].sort((a, b) => a - b);
  const last = order.at(-1)!;
  const missing: number[] = [];
  for (let seq = 0; seq < last; seq += 1) if (!chunks.has(seq)) missing.push(seq);
  const events: RecordingEventV1[] = [];
  for (const seq of order) {
    for (const event of asArray(chunks.get(seq)!.events)) {
      if (isRecordingEvent(event)) events.push(event);
    }
  }
  const header = asObject(chunks.get(0)?.header) as AsciicastHeaderV1 | undefined;
  return { sessionId, header, events, chunks: chunks.size, missing, final: chunks.get(last)!.final === true };
}

/** The recording as an asciicast v2 file: the header line, then one event a line. */
export function asciicastText(recording: StoredRecording): string {
  const header = recording.header ?? { version: 2, width: 80, height: 24 };
  return `${[header, ...recording.events].map((line) => JSON.stringify(line)).join('\n')}\n`;
}

function isRecordingEvent(value: unknown): value is RecordingEventV1 {
  return Array.isArray(value) && value.length === 3 && typeof value[0] === 'number' && Number.isFinite(value[0]) && typeof value[1] === 'string' && typeof value[2] === 'string';
}
