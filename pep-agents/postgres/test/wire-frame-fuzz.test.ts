// Property-based fuzzing of the PEP's wire-frame reader and message decoders.
// - Server messages: arbitrary valid sequences, cut at arbitrary chunk boundaries, must decode
//   to what pg-protocol (node-postgres's own parser, the reference) reads from the same bytes.
// - Client messages: what pg-protocol's serializer writes must decode to the values it was given.
// - Malformed input (garbage, bad or huge lengths, truncation, missing terminators): the reader
//   and every decoder either return or throw the PEP's protocol violation (08P01), in bounded
//   work; never another exception, never a wait for bytes beyond the message limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Parser } from 'pg-protocol/dist/parser.js';
import { serialize } from 'pg-protocol';
import { PgError } from '../src/errors/pg-error.ts';
import { decodeDataRow } from '../src/masking/data-row-cells.ts';
import { decodeRowDescription } from '../src/masking/row-description.ts';
import {
  decodeAuthentication, decodeBackendKeyData, decodeCommandTag, decodeNoticeFields, decodeNotification, decodeParameterStatus, decodeReadyForQuery,
} from '../src/protocol/backend-messages.ts';
import {
  bindPortalName, decodeBind, decodeDescribeOrClose, decodeExecute, decodeParse, decodePassword, decodeQuery,
} from '../src/protocol/frontend-messages.ts';
import { MessageBuilder } from '../src/protocol/message-builder.ts';
import { MessageReader, type FramedMessage } from '../src/protocol/message-reader.ts';
import { decodeStartupPacket } from '../src/protocol/startup-packet.ts';

const RUNS = 300;
const LIMIT = 1 << 20;

// ── generators ──────────────────────────────────────────────────────────────────────────────

/** Text as servers send it (any Unicode but NUL, which ends a C string). */
const cstring = fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => text.replaceAll('\0', ''));
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const int16 = fc.integer({ min: -(2 ** 15), max: 2 ** 15 - 1 });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((array) => Buffer.from(array));

/** A server message and what pg-protocol should read from it, normalised. */
interface Generated {
  readonly bytes: Buffer;
  readonly expected: Normalised;
}
type Normalised = Record<string, unknown>;

const ERROR_FIELDS = 'SVCMDHPpqWstcdnFLR';
const noticeFieldList = fc.array(fc.tuple(fc.constantFrom(...ERROR_FIELDS.split('')), cstring), { maxLength: 12 });

const backendMessage: fc.Arbitrary<Generated> = fc.oneof(
  fc.constantFrom(['1', 'parseComplete'], ['2', 'bindComplete'], ['3', 'closeComplete'], ['n', 'noData'], ['s', 'portalSuspended'], ['c', 'copyDone'], ['I', 'emptyQuery'])
    .map(([type, name]) => ({ bytes: new MessageBuilder().build(type), expected: { name } })),
  fc.array(fc.option(bytes(30), { nil: null }), { maxLength: 8 }).map((cells) => {
    const builder = new MessageBuilder().int16(cells.length);
    for (const cell of cells) {
      if (cell === null) builder.int32(-1);
      else builder.int32(cell.length).bytes(cell);
    }
    return { bytes: builder.build('D'), expected: { name: 'dataRow', fields: cells.map((cell) => cell?.toString('utf8') ?? null) } };
  }),
  cstring.map((tag) => ({ bytes: new MessageBuilder().cstring(tag).build('C'), expected: { name: 'commandComplete', text: tag } })),
  fc.constantFrom('I', 'T', 'E').map((status) => ({ bytes: new MessageBuilder().byte(status.charCodeAt(0)).build('Z'), expected: { name: 'readyForQuery', status } })),
  fc.tuple(int32, cstring, cstring).map(([pid, channel, payload]) => ({
    bytes: new MessageBuilder().int32(pid).cstring(channel).cstring(payload).build('A'),
    expected: { name: 'notification', processId: pid, channel, payload },
  })),
  fc.tuple(cstring, cstring).map(([name, value]) => ({
    bytes: new MessageBuilder().cstring(name).cstring(value).build('S'),
    expected: { name: 'parameterStatus', parameterName: name, parameterValue: value },
  })),
  fc.tuple(int32, int32).map(([pid, key]) => ({
    bytes: new MessageBuilder().int32(pid).int32(key).build('K'),
    expected: { name: 'backendKeyData', processID: pid, secretKey: key },
  })),
  fc.tuple(fc.constantFrom('E', 'N'), noticeFieldList).map(([type, fields]) => {
    const builder = new MessageBuilder();
    for (const [code, value] of fields) builder.byte(code.charCodeAt(0)).cstring(value);
    return { bytes: builder.byte(0).build(type), expected: { name: type === 'E' ? 'error' : 'notice', fields: Object.fromEntries(fields) } };
  }),
  fc.array(fc.record({ name: cstring, tableID: uint32, columnID: int16, dataTypeID: uint32, size: int16, modifier: int32, format: fc.constantFrom(0, 1) }), { maxLength: 6 }).map((fields) => {
    const builder = new MessageBuilder().int16(fields.length);
    for (const field of fields) builder.cstring(field.name).int32(field.tableID | 0).int16(field.columnID).int32(field.dataTypeID | 0).int16(field.size).int32(field.modifier).int16(field.format);
    return {
      bytes: builder.build('T'),
      expected: { name: 'rowDescription', fields: fields.map((field) => ({ name: field.name, tableID: field.tableID, columnID: field.columnID, dataTypeID: field.dataTypeID, format: field.format })) },
    };
  }),
  bytes(60).map((chunk) => ({ bytes: new MessageBuilder().bytes(chunk).build('d'), expected: { name: 'copyData', chunk: chunk.toString('hex') } })),
  fc.constantFrom(0, 3).map((code) => ({ bytes: new MessageBuilder().int32(code).build('R'), expected: { name: 'authentication', code } })),
);

/** Cut points: each chunk boundary, as offsets into `length` bytes. */
function chunksOf(buffer: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (buffer.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, buffer.length]) {
    chunks.push(buffer.subarray(from, point));
    from = point;
  }
  return chunks;
}

// ── both readers, normalised alike ─────────────────────────────────────────────────────────

/** What pg-protocol reads from the chunks, normalised. */
function reference(chunks: readonly Buffer[]): Normalised[] {
  const parser = new Parser();
  const out: Normalised[] = [];
  // A copy: pg-protocol may reuse a chunk it was given as its buffer and write into it.
  for (const chunk of chunks) {
    parser.parse(Buffer.from(chunk), (message) => out.push(normaliseReference(message as unknown as Record<string, unknown>)));
  }
  return out;
}

const REFERENCE_ERROR_FIELDS: Record<string, string> = {
  S: 'severity', C: 'code', D: 'detail', H: 'hint', P: 'position', p: 'internalPosition', q: 'internalQuery', W: 'where',
  s: 'schema', t: 'table', c: 'column', d: 'dataType', n: 'constraint', F: 'file', L: 'line', R: 'routine',
};

function normaliseReference(message: Record<string, unknown>): Normalised {
  const name = message.name as string;
  switch (name) {
    case 'dataRow':
      return { name, fields: message.fields };
    case 'commandComplete':
      return { name, text: message.text };
    case 'readyForQuery':
      return { name, status: message.status };
    case 'notification':
      return { name, processId: message.processId, channel: message.channel, payload: message.payload };
    case 'parameterStatus':
      return { name, parameterName: message.parameterName, parameterValue: message.parameterValue };
    case 'backendKeyData':
      return { name, processID: message.processID, secretKey: message.secretKey };
    case 'error':
    case 'notice': {
      // pg-protocol keeps the fields it knows by name, M as `message` (an empty string when absent).
      const fields: Record<string, unknown> = {};
      for (const [code, property] of Object.entries(REFERENCE_ERROR_FIELDS)) if (message[property] !== undefined) fields[code] = message[property];
      if (message.message !== undefined && message.message !== '') fields.M = message.message;
      return { name, fields };
    }
    case 'rowDescription':
      return {
        name,
        fields: (message.fields as Array<Record<string, unknown>>).map((field) => ({
          name: field.name, tableID: field.tableID, columnID: field.columnID, dataTypeID: field.dataTypeID, format: field.format === 'binary' ? 1 : 0,
        })),
      };
    case 'copyData':
      return { name, chunk: (message.chunk as Buffer).toString('hex') };
    case 'authenticationOk':
      return { name: 'authentication', code: 0 };
    case 'authenticationCleartextPassword':
      return { name: 'authentication', code: 3 };
    default:
      return { name };
  }
}

/** What the PEP reads from the chunks: the reader's frames, each decoded by the PEP's decoders. */
function ours(chunks: readonly Buffer[]): Normalised[] {
  const reader = new MessageReader(LIMIT);
  const out: Normalised[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let message = reader.nextMessage(); message; message = reader.nextMessage()) out.push(decodeOurs(message));
  }
  assert.equal(reader.buffered, 0, 'every byte was read');
  return out;
}

const EMPTY_BODIED: Record<string, string> = { '1': 'parseComplete', '2': 'bindComplete', '3': 'closeComplete', n: 'noData', s: 'portalSuspended', c: 'copyDone', I: 'emptyQuery' };

function decodeOurs(message: FramedMessage): Normalised {
  const type = String.fromCharCode(message.type);
  const { body } = message;
  if (EMPTY_BODIED[type]) return { name: EMPTY_BODIED[type] };
  switch (type) {
    case 'D':
      return { name: 'dataRow', fields: decodeDataRow(body).map((cell) => cell?.toString('utf8') ?? null) };
    case 'C':
      return { name: 'commandComplete', text: decodeCommandTag(body) };
    case 'Z':
      return { name: 'readyForQuery', status: decodeReadyForQuery(body) };
    case 'A': {
      const { processId, channel, payload } = decodeNotification(body);
      return { name: 'notification', processId, channel, payload };
    }
    case 'S': {
      const { name, value } = decodeParameterStatus(body);
      return { name: 'parameterStatus', parameterName: name, parameterValue: value };
    }
    case 'K': {
      const { processId, secretKey } = decodeBackendKeyData(body);
      return { name: 'backendKeyData', processID: processId, secretKey: secretKey.readInt32BE(0) };
    }
    case 'E':
    case 'N':
      return { name: type === 'E' ? 'error' : 'notice', fields: Object.fromEntries(decodeNoticeFields(body)) };
    case 'T':
      return {
        name: 'rowDescription',
        fields: decodeRowDescription(body).map((field) => ({ name: field.name, tableID: field.tableOid, columnID: field.attnum, dataTypeID: field.typeOid, format: field.format })),
      };
    case 'd':
      return { name: 'copyData', chunk: body.toString('hex') };
    case 'R':
      return { name: 'authentication', code: decodeAuthentication(body).code };
    default:
      throw new Error(`no decoder for ${type}`);
  }
}

/** Our field maps keep every field; pg-protocol's only the ones it names (not V), and M only when not empty. */
function comparableOurs(message: Normalised): Normalised {
  if (message.name !== 'error' && message.name !== 'notice') return message;
  const fields = Object.fromEntries(Object.entries(message.fields as Record<string, string>).filter(([code, value]) => code in REFERENCE_ERROR_FIELDS || (code === 'M' && value !== '')));
  return { ...message, fields };
}

// ── malformed input ─────────────────────────────────────────────────────────────────────────

function isProtocolViolation(error: unknown): boolean {
  return error instanceof PgError && error.sqlState === '08P01';
}

/**
 * Pushes the chunks and takes messages until the reader waits or refuses. Returns the frames
 * and whether it refused; anything thrown but a protocol violation fails the property. The work is
 * bounded: each frame consumes at least five bytes.
 */
function readAll(chunks: readonly Buffer[], limit: number): { frames: FramedMessage[]; refused: boolean } {
  const reader = new MessageReader(limit);
  const frames: FramedMessage[] = [];
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  try {
    for (const chunk of chunks) {
      reader.push(chunk);
      for (let message = reader.nextMessage(); message; message = reader.nextMessage()) {
        frames.push(message);
        assert.ok(frames.length <= total / 5, 'each frame consumes bytes');
      }
    }
  } catch (error) {
    if (!isProtocolViolation(error)) throw error;
    return { frames, refused: true };
  }
  return { frames, refused: false };
}

const DECODERS: Array<[string, (body: Buffer) => unknown]> = [
  ['DataRow', decodeDataRow], ['RowDescription', decodeRowDescription], ['CommandComplete', decodeCommandTag],
  ['ReadyForQuery', decodeReadyForQuery], ['NotificationResponse', decodeNotification], ['ParameterStatus', decodeParameterStatus],
  ['BackendKeyData', decodeBackendKeyData], ['ErrorResponse', decodeNoticeFields], ['Authentication', decodeAuthentication],
  ['Query', decodeQuery], ['Parse', decodeParse], ['Bind', decodeBind], ['Bind portal', bindPortalName],
  ['Describe', (body) => decodeDescribeOrClose(body, 'Describe')], ['Close', (body) => decodeDescribeOrClose(body, 'Close')],
  ['Execute', decodeExecute], ['PasswordMessage', decodePassword],
  ['start-up packet', (body) => decodeStartupPacket(Buffer.concat([Buffer.from([0, 0, 0, 0]), body]))],
];

function decodesCleanly(body: Buffer): void {
  for (const [what, decode] of DECODERS) {
    try {
      decode(body);
    } catch (error) {
      if (isProtocolViolation(error)) continue;
      // An unsupported protocol version is answered as PostgreSQL does (0A000), not a crash.
      if (what === 'start-up packet' && error instanceof PgError && error.sqlState === '0A000') continue;
      assert.fail(`${what} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} on ${body.toString('hex')}`);
    }
  }
}

describe('wire frames: the PEP reads server messages as pg-protocol does', () => {
  it('arbitrary valid server message sequences, cut at arbitrary chunk boundaries, decode identically', () => {
    fc.assert(
      fc.property(fc.array(backendMessage, { minLength: 1, maxLength: 25 }), fc.array(fc.nat(), { maxLength: 30 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map((message) => message.bytes));
        const chunks = chunksOf(stream, cuts);
        const expected = reference(chunks);
        const actual = ours(chunks).map(comparableOurs);
        assert.deepEqual(actual, expected);
        // And the generator's own model agrees with both, so neither side can be wrong alike.
        assert.deepEqual(expected.length, messages.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('frames come back byte for byte whatever the chunking (what the relay forwards unchanged)', () => {
    fc.assert(
      fc.property(fc.array(backendMessage, { minLength: 1, maxLength: 25 }), fc.array(fc.nat(), { maxLength: 60 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map((message) => message.bytes));
        const { frames, refused } = readAll(chunksOf(stream, cuts), LIMIT);
        assert.equal(refused, false);
        assert.deepEqual(frames.map((frame) => frame.raw.toString('hex')), messages.map((message) => message.bytes.toString('hex')));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('wire frames: the PEP reads client messages as pg-protocol writes them', () => {
  const text = cstring;
  it('Query, Parse, Bind, Execute, Describe, Close and PasswordMessage decode to the values serialised', () => {
    fc.assert(
      fc.property(
        text, text, text, fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 5 }),
        fc.array(fc.option(text, { nil: null }), { maxLength: 6 }), fc.boolean(), fc.nat(), fc.constantFrom<'S' | 'P'>('S', 'P'),
        (name, sql, portal, types, values, binary, rows, target) => {
          const frame = (bytes: Buffer): Buffer => {
            const { frames, refused } = readAll([bytes], LIMIT);
            assert.equal(refused, false);
            assert.equal(frames.length, 1);
            return frames[0]!.body;
          };
          assert.equal(decodeQuery(frame(serialize.query(sql))), sql);
          assert.deepEqual(decodeParse(frame(serialize.parse({ name, text: sql, types }))), { name, sql, parameterTypes: types });
          const bind = decodeBind(frame(serialize.bind({ portal, statement: name, values, binary })));
          const { parameterFormats, parameters, ...rest } = bind;
          assert.deepEqual(rest, { portal, statement: name, parameterCount: values.length, resultFormats: [binary ? 1 : 0] });
          assert.ok(parameterFormats.every((format) => format === 0), 'string values are sent as text');
          assert.deepEqual(parameters.map((value) => (value === null ? null : value.toString('utf8'))), values);
          assert.equal(bindPortalName(frame(serialize.bind({ portal, statement: name, values }))), portal);
          assert.deepEqual(decodeExecute(frame(serialize.execute({ portal, rows }))), { portal, maxRows: rows });
          assert.deepEqual(decodeDescribeOrClose(frame(serialize.describe({ type: target, name })), 'Describe'), { target, name });
          assert.deepEqual(decodeDescribeOrClose(frame(serialize.close({ type: target, name })), 'Close'), { target, name });
          assert.equal(decodePassword(frame(serialize.password(sql))), sql);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('start-up packets, SSLRequest and CancelRequest decode to what was serialised', () => {
    fc.assert(
      fc.property(fc.dictionary(cstring.filter((key) => key !== '' && !key.startsWith('_pq_.')), cstring, { maxKeys: 6 }), int32, int32, (parameters, pid, key) => {
        const startup = decodeStartupPacket(serialize.startup(parameters));
        assert.equal(startup.kind, 'startup');
        if (startup.kind === 'startup') assert.deepEqual(Object.fromEntries(startup.parameters), { client_encoding: 'UTF8', ...parameters });
        assert.equal(decodeStartupPacket(serialize.requestSsl()).kind, 'ssl-request');
        const cancel = decodeStartupPacket(serialize.cancel(pid, key));
        assert.ok(cancel.kind === 'cancel' && cancel.processId === pid && cancel.secretKey.readInt32BE(0) === key);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('wire frames: malformed input is a clean protocol error', () => {
  it('arbitrary bytes, arbitrarily chunked: frames, a wait, or 08P01; and every decoder on every frame returns or throws 08P01', () => {
    fc.assert(
      fc.property(bytes(600), fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 5, max: 1024 }), (stream, cuts, limit) => {
        const { frames } = readAll(chunksOf(stream, cuts), limit);
        for (const frame of frames) decodesCleanly(frame.body);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('a valid stream with one length field replaced (negative, below 4, past the limit, huge) is refused or awaited, never misread', () => {
    fc.assert(
      fc.property(
        fc.array(backendMessage, { minLength: 1, maxLength: 10 }),
        fc.nat(),
        fc.oneof(fc.integer({ min: -(2 ** 31), max: 3 }), fc.integer({ min: LIMIT, max: 2 ** 31 - 1 }), fc.constant(2 ** 31 - 1)),
        fc.array(fc.nat(), { maxLength: 10 }),
        (messages, which, length, cuts) => {
          const index = which % messages.length;
          const corrupt = Buffer.from(messages[index]!.bytes);
          corrupt.writeInt32BE(length, 1);
          const stream = Buffer.concat([...messages.slice(0, index).map((message) => message.bytes), corrupt, ...messages.slice(index + 1).map((message) => message.bytes)]);
          const { frames, refused } = readAll(chunksOf(stream, cuts), LIMIT);
          assert.equal(refused, true, 'an impossible or oversized length is refused as soon as its header is in');
          assert.equal(frames.length, index, 'the messages before it were read, none after');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a truncated stream gives the whole messages before the cut and waits for the rest', () => {
    fc.assert(
      fc.property(fc.array(backendMessage, { minLength: 1, maxLength: 10 }), fc.nat(), (messages, cutAt) => {
        const stream = Buffer.concat(messages.map((message) => message.bytes));
        const cut = cutAt % stream.length;
        const { frames, refused } = readAll([stream.subarray(0, cut)], LIMIT);
        assert.equal(refused, false);
        let whole = 0;
        for (let offset = 0, index = 0; index < messages.length; index += 1) {
          offset += messages[index]!.bytes.length;
          if (offset <= cut) whole += 1;
        }
        assert.equal(frames.length, whole);
      }),
      { numRuns: RUNS },
    );
  });

  it('bodies with a terminator removed, a byte flipped or cut short decode or throw 08P01', () => {
    fc.assert(
      fc.property(backendMessage, fc.nat(), fc.integer({ min: 0, max: 255 }), (message, at, value) => {
        const body = message.bytes.subarray(5);
        if (body.length === 0) return;
        const position = at % body.length;
        const withoutNul = Buffer.from(body.toString('latin1').replaceAll('\0', 'x'), 'latin1');
        const flipped = Buffer.from(body);
        flipped[position] = value;
        for (const variant of [withoutNul, flipped, body.subarray(0, position)]) decodesCleanly(variant);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
