// Property-based fuzzing of what clients send, through a real PEP socket (real PDP, real
// PostgreSQL): arbitrary start-up bytes, and arbitrary frames after a good login (known and
// unknown type bytes, bodies of any content, lengths that lie). Every connection must end in
// bounded time with well-formed server messages (an ErrorResponse of a protocol violation or a
// refusal, never an internal error), and the PEP must keep serving everyone else.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeNoticeFields } from '@portcullis/pep-postgres/testing';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { MessageReader } from '@portcullis/pep-postgres/testing';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { loginNameOf, msg, startupPacket } from './raw-client.ts';

const RUNS = 40;
const BOUND_MS = 20_000;
/** How long a PEP that has said nothing more is watched before the test moves on. */
const QUIET_MS = 400;

/**
 * Sends `bytes` (after `login`, if given) and returns what the PEP sent in answer; `untilClosed`:
 * waits (bounded) for the PEP to close rather than for it to fall quiet; `until`: waits (bounded)
 * for an answer that holds, however slowly it comes (a quiet spell proves nothing about a busy PEP).
 */
async function exchange(port: number, bytes: Buffer, login?: Buffer[], untilClosed = false, until?: (answer: Buffer) => boolean): Promise<Buffer & { closedByPep: boolean }> {
  const socket = connect({ host: '127.0.0.1', port });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  if (login) {
    // The start-up packet is answered by the password request (R), the token by ReadyForQuery (Z).
    for (const [packet, expected] of [[login[0]!, 0x52], [login[1]!, 0x5a]] as const) {
      socket.write(packet);
      const deadline = Date.now() + BOUND_MS;
      while (!frameTypes(Buffer.concat(received)).includes(expected)) {
        assert.ok(Date.now() < deadline, 'the login completed in time');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    received.length = 0;
  }
  // Not half-closed: the PEP must answer or close on what it got. Observed until it closes, or
  // until it has said nothing more for a while (it may rightly wait for the rest of a message).
  socket.write(bytes);
  const deadline = Date.now() + BOUND_MS;
  let seen = -1;
  let quietSince = Date.now();
  let open = true;
  void closed.then(() => {
    open = false;
  });
  while (open && Date.now() < deadline) {
    const size = received.reduce((sum, chunk) => sum + chunk.length, 0);
    if (until) {
      if (until(Buffer.concat(received))) break;
    } else if (size !== seen) {
      seen = size;
      quietSince = Date.now();
    } else if (!untilClosed && Date.now() - quietSince > QUIET_MS) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const closedByPep = !open;
  socket.destroy();
  await closed;
  return Object.assign(Buffer.concat(received), { closedByPep });
}

/** The type bytes of the whole messages in `bytes`. */
function frameTypes(bytes: Buffer): number[] {
  const reader = new MessageReader(64 * 1024 * 1024);
  reader.push(bytes);
  const types: number[] = [];
  for (let message = reader.nextMessage(); message; message = reader.nextMessage()) types.push(message.type);
  return types;
}

/** Backend frames in what the PEP sent after the login; their SQLSTATEs. */
function errorCodes(bytes: Buffer): string[] {
  const reader = new MessageReader(64 * 1024 * 1024);
  reader.push(bytes);
  const codes: string[] = [];
  for (let message = reader.nextMessage(); message; message = reader.nextMessage()) {
    if (message.type === 0x45) codes.push(decodeNoticeFields(message.body).get('C') ?? '');
  }
  assert.equal(reader.buffered, 0, 'only whole messages');
  return codes;
}

const FRONTEND_TYPES = 'QPBDECSHXdcfFp'.split('');

/** One client message of a known or unknown type, with any body and a length that may lie. */
const frame = fc.record({
  type: fc.oneof(fc.constantFrom(...FRONTEND_TYPES), fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code))),
  body: fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)),
  length: fc.oneof(fc.constant<number | undefined>(undefined), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
}).map(({ type, body, length }) => {
  const bytes = new MessageBuilder().bytes(body).build(type.length === 1 ? type : 'Q');
  bytes[0] = type.charCodeAt(0) & 0xff;
  if (length !== undefined) bytes.writeInt32BE(length, 1);
  return bytes;
});

describe('the Postgres PEP under fuzzed client input', () => {
  let stack: PepStack;
  let token: string;

  before(async () => {
    stack = await startPepStack();
    token = await stack.token('agent-fuzz', ['writer']);
  });
  after(() => stack?.close());

  it('arbitrary start-up bytes: the connection ends in bounded time, with at most a clean error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 120 }).map((array) => Buffer.from(array)), fc.uint8Array({ maxLength: 60 }).map((array) => {
        // Plausible packets: a start-up with a random tail, a cancel or SSL request cut short.
        const packet = startupPacket({ user: 'agent', database: 'analytics' });
        return Buffer.concat([packet.subarray(0, 8), Buffer.from(array)]);
      })), async (bytes) => {
        const answer = await exchange(stack.port, bytes);
        // An SSLRequest or GSSENCRequest is answered by one byte (N) before any message.
        const messages = answer[0] === 0x4e && (answer.length === 1 || answer[1] !== 0) ? answer.subarray(1) : answer;
        if (messages.length === 0 || messages[0] !== 0x45) return;
        for (const code of errorCodes(messages)) assert.ok(['08P01', '0A000', '22023', '28000', '28P01'].includes(code), `SQLSTATE ${code}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers a well-formed query sent the same way (the harness logs in and reads answers)', async () => {
    const login = [startupPacket({ user: loginNameOf(token), database: 'analytics' }), new MessageBuilder().cstring(token).build('p')];
    const answer = await exchange(stack.port, new MessageBuilder().cstring('SELECT 1').build('Q'), login, false, (bytes) => frameTypes(bytes).includes(0x5a));
    assert.deepEqual(frameTypes(answer).map((type) => String.fromCharCode(type)), ['T', 'D', 'C', 'Z']);
  });

  // Found by the fuzzer: messages pipelined before Terminate were dropped unanswered (and their
  // statement cancelled). PostgreSQL answers them, then closes; so does the PEP now.
  it('answers messages pipelined before Terminate, then closes', async () => {
    const login = [startupPacket({ user: loginNameOf(token), database: 'analytics' }), new MessageBuilder().cstring(token).build('p')];
    const terminate = new MessageBuilder().build('X');
    const types = (bytes: Buffer): string[] => frameTypes(bytes).map((type) => String.fromCharCode(type));
    const simple = await exchange(stack.port, Buffer.concat([msg.query('SELECT 1'), terminate]), login, true);
    assert.deepEqual(types(simple), ['T', 'D', 'C', 'Z']);
    const twoQueries = await exchange(stack.port, Buffer.concat([msg.query('SELECT 1'), msg.query('SELECT 2, 3'), terminate]), login, true);
    assert.deepEqual(types(twoQueries), ['T', 'D', 'C', 'Z', 'T', 'D', 'C', 'Z']);
    const extended = await exchange(stack.port, Buffer.concat([msg.parse('', 'SELECT $1::int AS n'), msg.bind('', '', ['7']), msg.describePortal(''), msg.execute(''), msg.sync(), terminate]), login, true);
    assert.deepEqual(types(extended), ['1', '2', 'T', 'D', 'C', 'Z']);
    const refused = await exchange(stack.port, Buffer.concat([msg.query('DELETE FROM orders'), terminate]), login, true);
    assert.deepEqual(types(refused), ['E', 'Z']);
    for (const answer of [simple, twoQueries, extended, refused]) assert.equal(answer.closedByPep, true, 'the PEP closed the connection');
  });

  it('arbitrary frames after a good login: well-formed answers, never an internal error, in bounded time', async () => {
    const login = [startupPacket({ user: loginNameOf(token), database: 'analytics' }), new MessageBuilder().cstring(token).build('p')];
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 30 }), async (frames, tail) => {
        const answer = await exchange(stack.port, Buffer.concat([...frames, Buffer.from(tail)]), login);
        for (const code of errorCodes(answer)) {
          assert.match(code, /^[0-9A-Z]{5}$/);
          assert.notEqual(code, 'XX000', 'no internal error');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('still serves a well-behaved client, and logged no internal error', async () => {
    const client = await stack.client(token);
    try {
      assert.deepEqual((await client.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    } finally {
      await client.end();
    }
    assert.deepEqual(stack.logs.filter((line) => /internal error|Uncaught|TypeError|RangeError/.test(line)), []);
  });
});
