import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { auditBodyOf } from '@portcullis/pdp';
import {
  HttpPdpTransport,
  MemorySessionEventSink,
  PdpSessionEventSink,
  TerminalRecorder,
  TerminalTextDecoder,
  terminalTextToBytes,
  type SessionEventSink,
  type SessionRecordingEventV1,
  type TerminalRecorderOptions,
} from '../src/index.ts';

const WEB_1 = { type: 'ssh', name: 'web-1', environment: 'production' } as const;

/** A deterministic byte source (xorshift), so a failure is reproducible from its seed. */
function randomBytes(seed: number, length: number): Uint8Array {
  let state = seed >>> 0 || 1;
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

/** Cuts `bytes` into pieces of 1 to `max` bytes, the cut points drawn from `seed`. */
function pieces(bytes: Uint8Array, seed: number, max = 7): Uint8Array[] {
  const lengths = randomBytes(seed + 7919, bytes.length);
  const cut: Uint8Array[] = [];
  for (let start = 0, draw = 0; start < bytes.length; draw += 1) {
    const end = Math.min(start + 1 + (lengths[draw]! % max), bytes.length);
    cut.push(bytes.subarray(start, end));
    start = end;
  }
  return cut;
}

/** The bytes of one code (`o` output, `i` input) over a recording's chunks, in seq order. */
function bytesOf(chunks: readonly SessionRecordingEventV1[], code: 'o' | 'i'): Buffer {
  const text = [...chunks].sort((a, b) => a.recording.seq - b.recording.seq).flatMap((chunk) => chunk.recording.events).filter((event) => event[1] === code).map((event) => event[2]).join('');
  return Buffer.from(terminalTextToBytes(text));
}

function chunksOf(sink: MemorySessionEventSink): SessionRecordingEventV1[] {
  return sink.events.filter((event): event is SessionRecordingEventV1 => event.event === 'session.recording');
}

function recorderFor(sink: SessionEventSink, extra: Partial<TerminalRecorderOptions> = {}): TerminalRecorder {
  return new TerminalRecorder({
    sink,
    session: { id: 'shell-1', client_addr: '127.0.0.1' },
    protocol: 'shell',
    resource: WEB_1,
    decisionId: 'decision-1',
    terminal: { cols: 120, rows: 40, term: 'xterm-256color' },
    chunkIntervalMs: 60_000,
    ...extra,
  });
}

describe('terminal bytes as asciicast text', () => {
  it('gives back exactly the bytes, for any bytes cut anywhere', () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      const bytes = randomBytes(seed, 300 + seed);
      const decoder = new TerminalTextDecoder();
      const text = pieces(bytes, seed).map((piece) => decoder.write(piece)).join('') + decoder.end();
      assert.deepEqual(Buffer.from(terminalTextToBytes(text)), Buffer.from(bytes), `seed ${seed}`);
    }
  });

  it('keeps a UTF-8 character cut across writes whole, and escapes only what is not UTF-8', () => {
    const bytes = Buffer.from('\u{feff}héllo ✓ 𝄞 \x1b[31mred\x1b[0m\r\n', 'utf8');
    const decoder = new TerminalTextDecoder();
    const text = [...bytes].map((byte) => decoder.write(Uint8Array.of(byte))).join('') + decoder.end();
    assert.equal(text, '\u{feff}héllo ✓ 𝄞 \x1b[31mred\x1b[0m\r\n', 'the characters themselves, the byte order mark kept');
    assert.equal(new TerminalTextDecoder().write(Uint8Array.of(0x41, 0xff, 0xc3)), 'A\udcff', 'a byte that is not UTF-8 is escaped; a cut lead byte waits');
    const latin1 = Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0x0a);
    const escaped = new TerminalTextDecoder();
    const latinText = escaped.write(latin1) + escaped.end();
    assert.equal(latinText, 'caf\udce9\n');
    assert.deepEqual(Buffer.from(terminalTextToBytes(latinText)), Buffer.from(latin1));
    // Surrogates encoded in UTF-8 (CESU) and overlongs are not UTF-8: each byte escaped, each byte back.
    for (const invalid of [[0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0xaf]]) {
      const decoded = new TerminalTextDecoder().write(Uint8Array.from(invalid));
      assert.equal(decoded.length, invalid.length, `${invalid} is escaped byte by byte`);
      assert.deepEqual([...terminalTextToBytes(decoded)], invalid);
    }
  });
});

describe('the terminal recorder', () => {
  it('records output, input and resizes as asciicast v2 chunks in order: header first, final last', () => {
    let now = 1000;
    const sink = new MemorySessionEventSink();
    const recorder = recorderFor(sink, { clock: () => now, subjectToken: 'subject-token', title: 'web-1' });
    recorder.output(Buffer.from('$ '));
    now += 250;
    recorder.input(Buffer.from('ls\r'));
    now += 10;
    recorder.output(Buffer.from('ls\r\nfile-a  file-b\r\n$ '));
    now += 500;
    recorder.resize(100, 30);
    recorder.marker('approval 1234');
    recorder.end();
    recorder.output(Buffer.from('after the end'));

    const chunks = chunksOf(sink);
    assert.equal(chunks.length, 1);
    const [chunk] = chunks;
    assert.equal(chunk!.decision_id, 'decision-1');
    assert.equal(chunk!.subject_token, 'subject-token');
    assert.deepEqual(chunk!.resource, WEB_1);
    assert.deepEqual({ ...chunk!.recording.header, timestamp: 0 }, { version: 2, width: 120, height: 40, timestamp: 0, env: { TERM: 'xterm-256color' }, title: 'web-1' });
    assert.deepEqual(chunk!.recording.events, [
      [0, 'o', '$ '],
      [0.26, 'i', 'ls\r'],
      [0.26, 'o', 'ls\r\nfile-a  file-b\r\n$ '],
      [0.76, 'r', '100x30'],
      [0.76, 'm', 'approval 1234'],
    ]);
    assert.equal(chunk!.recording.final, true);
    assert.deepEqual(recorder.totals, { chunks: 1, chunksDropped: 0, outputBytes: 24, inputBytes: 3, inputWithheld: 0, resizes: 1 });
    assert.equal(recorder.ended, true);
  });

  it('cuts a long session into bounded chunks numbered without gaps, and the chunks give back the very bytes', () => {
    const sink = new MemorySessionEventSink();
    const recorder = recorderFor(sink, { chunkChars: 1000, input: 'all' });
    const output = randomBytes(42, 20_000);
    const input = randomBytes(43, 3000);
    const outputPieces = pieces(output, 42, 700);
    const inputPieces = pieces(input, 43, 50);
    for (let index = 0; index < Math.max(outputPieces.length, inputPieces.length); index += 1) {
      if (outputPieces[index]) recorder.output(outputPieces[index]!);
      if (inputPieces[index]) recorder.input(inputPieces[index]!);
    }
    recorder.end();
    const chunks = chunksOf(sink);
    assert.ok(chunks.length > 20, `${chunks.length} chunks`);
    assert.deepEqual(chunks.map((chunk) => chunk.recording.seq), chunks.map((_, index) => index));
    assert.ok(chunks[0]!.recording.header && chunks.slice(1).every((chunk) => chunk.recording.header === undefined), 'the header is in chunk 0 only');
    assert.deepEqual(chunks.map((chunk) => chunk.recording.final === true), chunks.map((_, index) => index === chunks.length - 1));
    for (const chunk of chunks) {
      const chars = chunk.recording.events.reduce((sum, event) => sum + event[2].length, 0);
      assert.ok(chars <= 1000, `chunk ${chunk.recording.seq} holds ${chars} characters`);
    }
    assert.deepEqual(bytesOf(chunks, 'o'), Buffer.from(output));
    assert.deepEqual(bytesOf(chunks, 'i'), Buffer.from(input));
    const times = chunks.flatMap((chunk) => chunk.recording.events.map((event) => event[0]));
    assert.ok(times.every((time, index) => index === 0 || time >= times[index - 1]!), 'times never go back');
  });

  it('ships a chunk on its own once data has waited the interval', async () => {
    const sink = new MemorySessionEventSink();
    const recorder = recorderFor(sink, { chunkIntervalMs: 20 });
    recorder.output(Buffer.from('hello'));
    await eventually('the waiting chunk shipped', () => chunksOf(sink).length === 1);
    assert.deepEqual(chunksOf(sink)[0]!.recording.events.map((event) => event[2]), ['hello']);
    recorder.end();
    assert.deepEqual(chunksOf(sink).map((chunk) => [chunk.recording.seq, chunk.recording.final ?? false, chunk.recording.events.length]), [[0, false, 1], [1, true, 0]]);
  });

  it('records only typed text the terminal echoed: a password typed with echo off never reaches the recording', () => {
    const sink = new MemorySessionEventSink();
    const recorder = recorderFor(sink);
    const typedInput = (text: string) => recorder.input(Buffer.from(text));
    const shown = (text: string) => recorder.output(Buffer.from(text));
    shown('$ ');
    typedInput('s');
    shown('s');
    typedInput('udo -v\r');
    shown('udo -v\r\n[sudo] password for dana: ');
    typedInput('hunter2');
    typedInput('\r');
    shown('\r\n$ ');
    typedInput('ls -l\x1b[D\x1b[C\r');
    shown('ls -l\x1b[D\x1b[C\r\nfile-a\r\n$ ');
    typedInput('vim-keys-never-echoed');
    recorder.end();
    const [chunk] = chunksOf(sink);
    const input = chunk!.recording.events.filter((event) => event[1] === 'i').map((event) => event[2]).join('');
    assert.equal(input, 'sudo -v\r\rls -l\x1b[D\x1b[C\r');
    assert.ok(!JSON.stringify(chunk).includes('hunter2'), 'the password is nowhere in the recording');
    assert.equal(recorder.totals.inputWithheld, 'hunter2'.length + 'vim-keys-never-echoed'.length);
    const times = chunk!.recording.events.map((event) => event[0]);
    assert.ok(times.every((time, index) => index === 0 || time >= times[index - 1]!));
    // Every keystroke with input: 'all'; none with 'none'.
    const all = new MemorySessionEventSink();
    const everything = recorderFor(all, { input: 'all' });
    everything.input(Buffer.from('hunter2\r'));
    everything.end();
    assert.ok(JSON.stringify(chunksOf(all)).includes('hunter2'));
  });

  it('leaves typed input out when told to, and counts a chunk the sink refused', async () => {
    const sink = new MemorySessionEventSink(1);
    const recorder = recorderFor(sink, { input: 'none', chunkChars: 4 });
    recorder.input(Buffer.from('secret-password\r'));
    recorder.output(Buffer.from('abcdefgh'));
    recorder.end();
    const chunks = chunksOf(sink);
    assert.ok(!JSON.stringify(chunks).includes('secret'), 'no input recorded');
    assert.deepEqual(recorder.totals, { chunks: 3, chunksDropped: 2, outputBytes: 8, inputBytes: 0, inputWithheld: 0, resizes: 0 });
    await sink.close();
    assert.equal(recorder.canRecord(), false);
  });
});

describe('terminal recordings shipped to a real PDP', () => {
  let pdp: TestPdp;
  let human: string;

  before(async () => {
    pdp = await startTestPdp();
    human = await pdp.token({ sub: 'alice@example.com', roles: ['reader'], kind: 'human' });
  });
  after(() => pdp.close());

  /** A decision the PDP issued to this PEP for web-1, this principal and this session. */
  async function decisionIn(sessionId: string): Promise<string> {
    const answer = await pdp.decide({ subject_token: human, resource: WEB_1, action: { type: 'shell', command: 'ls' }, session: { id: sessionId, client_addr: '127.0.0.1' } });
    assert.equal(answer.body.effect, 'allow', JSON.stringify(answer.body));
    return answer.body.decision_id as string;
  }

  async function recordedChunks(sessionId: string): Promise<Record<string, any>[]> {
    return (await pdp.auditEvents('sessions')).map((record) => auditBodyOf(record) as Record<string, any>).filter((body) => body.event === 'session.recording' && body.session.id === sessionId);
  }

  it('reach the sessions stream in order, under the verified decision and principal, byte for byte', async () => {
    const transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const sink = new PdpSessionEventSink(transport, { flushIntervalMs: 10 });
    const recorder = recorderFor(sink, { session: { id: 'shell-shipped', client_addr: '127.0.0.1' }, decisionId: await decisionIn('shell-shipped'), subjectToken: human, chunkChars: 2000, input: 'all' });
    const output = Buffer.concat([Buffer.from('\x1b[1;32mweb-1\x1b[0m:~$ ✓ 𝄞 '), Buffer.from(randomBytes(7, 9000)), Buffer.from([0xe2, 0x9c])]);
    for (const piece of pieces(output, 7, 900)) recorder.output(piece);
    recorder.input(Buffer.from('exit\r'));
    recorder.end();
    const stats = await sink.close();
    transport.close();

    assert.equal(stats.shipped, stats.submitted);
    assert.equal(stats.rejected + stats.dropped + stats.lost, 0);
    const bodies = await recordedChunks('shell-shipped');
    assert.equal(bodies.length, recorder.totals.chunks);
    assert.deepEqual(bodies.map((body) => body.recording.seq), bodies.map((_, index) => index));
    assert.ok(bodies.every((body) => body.decision_verified === true && body.principal.sub === 'alice@example.com' && body.protocol === 'shell'));
    assert.deepEqual(bytesOf(bodies as SessionRecordingEventV1[], 'o'), output, 'the stored recording is the bytes sent, exactly');
    assert.deepEqual(bytesOf(bodies as SessionRecordingEventV1[], 'i'), Buffer.from('exit\r'));
    assert.ok(!JSON.stringify(bodies).includes(human), 'the subject token is not in the record');
  });

  it('are refused when they name a decision the PDP did not issue for that session', async () => {
    const problems: string[] = [];
    const transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    const sink = new PdpSessionEventSink(transport, { flushIntervalMs: 10, onProblem: (message) => problems.push(message) });
    // A real decision, but issued for another session: a PEP cannot lend one session's decision to another.
    const recorder = recorderFor(sink, { session: { id: 'shell-borrowed' }, decisionId: await decisionIn('shell-elsewhere'), subjectToken: human });
    recorder.output(Buffer.from('whoami\r\n'));
    recorder.end();
    const stats = await sink.close();
    transport.close();
    assert.equal(stats.rejected, 1);
    assert.ok(problems.some((problem) => problem.includes('403')), problems.join('\n'));
    assert.deepEqual(await recordedChunks('shell-borrowed'), []);
  });
});
