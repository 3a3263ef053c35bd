import { Type, type Static } from '@sinclair/typebox';
import { Name, Text } from '../decisions/decision-request-v1.ts';

/**
 * One chunk of an interactive session's recording, as asciicast v2
 * (https://docs.asciinema.org/manual/asciicast/v2/): the header in the first chunk, then events
 * `[seconds since the start, code, data]` with code `o` (sent to the client's terminal, after
 * masking), `i` (typed by the client), `r` (resized, data `COLSxROWS`) or `m` (a marker). A
 * recording is the chunks of one session in `seq` order, 0, 1, 2 … without gaps, the last one
 * `final`; the header line followed by every chunk's events, one JSON array a line, is the
 * asciicast file. Data is text with bytes that are not UTF-8 as U+DC80–U+DCFF (terminal-bytes.ts),
 * so the bytes are recovered exactly.
 */

export const RECORDING_FORMAT = 'asciicast-v2';
/** Characters of data one event carries at most; a longer write is split over events. */
export const MAX_RECORDING_EVENT_DATA = 64 * 1024;
/** Events one chunk carries at most. */
export const MAX_RECORDING_EVENTS = 10_000;

const Dimension = (description: string) => Type.Integer({ minimum: 1, maximum: 10_000, errorMessage: 'must be an integer from 1 to 10000', description });

export const AsciicastHeaderV1 = Type.Object(
  {
    version: Type.Literal(2, { errorMessage: 'must be 2' }),
    width: Dimension('Terminal columns when the recording started'),
    height: Dimension('Terminal rows when the recording started'),
    /** Unix seconds when the recording started. */
    timestamp: Type.Optional(Type.Integer({ minimum: 0, errorMessage: 'must be a non-negative integer', description: 'Unix seconds when the recording started' })),
    title: Type.Optional(Text(256)),
    env: Type.Optional(Type.Object({ TERM: Type.Optional(Name(128)), SHELL: Type.Optional(Name(256)) })),
  },
  { $id: 'AsciicastHeaderV1' },
);
export type AsciicastHeaderV1 = Static<typeof AsciicastHeaderV1>;

export const RecordingEventCodeV1 = Type.Union([Type.Literal('o'), Type.Literal('i'), Type.Literal('r'), Type.Literal('m')], {
  errorMessage: 'must be o, i, r or m',
});
export type RecordingEventCode = Static<typeof RecordingEventCodeV1>;

export const RecordingEventV1 = Type.Tuple(
  [
    Type.Number({ minimum: 0, errorMessage: 'must be a non-negative number of seconds' }),
    RecordingEventCodeV1,
    Type.String({ maxLength: MAX_RECORDING_EVENT_DATA, errorMessage: `must be text of at most ${MAX_RECORDING_EVENT_DATA} characters` }),
  ],
  { $id: 'RecordingEventV1', description: '[seconds since the start, code, data], an asciicast v2 event line' },
);
export type RecordingEventV1 = Static<typeof RecordingEventV1>;

export const RecordingChunkV1 = Type.Object(
  {
    format: Type.Literal(RECORDING_FORMAT, { errorMessage: `must be ${RECORDING_FORMAT}` }),
    /** 0, 1, 2 … in the session; a gap is a lost chunk. */
    seq: Type.Integer({ minimum: 0, errorMessage: 'must be a non-negative integer', description: 'The chunk number in the session: 0, 1, 2 … (a gap is a lost chunk)' }),
    /** In chunk 0 only. */
    header: Type.Optional(AsciicastHeaderV1),
    events: Type.Array(RecordingEventV1, { maxItems: MAX_RECORDING_EVENTS, errorMessage: `must hold at most ${MAX_RECORDING_EVENTS} events` }),
    /** The last chunk of the recording. */
    final: Type.Optional(Type.Boolean({ errorMessage: 'must be true or false' })),
  },
  { $id: 'RecordingChunkV1' },
);
export type RecordingChunkV1 = Static<typeof RecordingChunkV1>;
