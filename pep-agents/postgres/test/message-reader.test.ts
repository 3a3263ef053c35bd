import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageBuilder } from '../src/protocol/message-builder.ts';
import { MessageReader, UnreadableStartupPacketError } from '../src/protocol/message-reader.ts';

describe('MessageReader', () => {
  const query = new MessageBuilder().cstring('SELECT 1').build('Q');
  const sync = new MessageBuilder().build('S');

  it('cuts messages out of a stream split at every byte', () => {
    const reader = new MessageReader(1024);
    const stream = Buffer.concat([query, sync, query]);
    const seen: string[] = [];
    for (const byte of stream) {
      reader.push(Buffer.from([byte]));
      for (let message = reader.nextMessage(); message; message = reader.nextMessage()) {
        seen.push(`${String.fromCharCode(message.type)}:${message.body.toString('utf8')}`);
        assert.equal(message.raw.length, message.body.length + 5);
      }
    }
    assert.deepEqual(seen, ['Q:SELECT 1\0', 'S:', 'Q:SELECT 1\0']);
    assert.equal(reader.buffered, 0);
  });

  it('refuses a length above the limit as soon as the header is in, without waiting for the body', () => {
    const reader = new MessageReader(100);
    const header = Buffer.from([0x51, 0, 0, 1, 0]);
    reader.push(header);
    assert.throws(() => reader.nextMessage(), { sqlState: '08P01', severity: 'FATAL', message: /exceeds the limit/ });
  });

  it('refuses an impossible length', () => {
    const reader = new MessageReader(100);
    reader.push(Buffer.from([0x51, 0, 0, 0, 3]));
    assert.throws(() => reader.nextMessage(), { sqlState: '08P01', message: /invalid message length 3/ });
  });

  it('reads start-up packets by their own length rules', () => {
    const reader = new MessageReader(100);
    const packet = new MessageBuilder().int32(196608).cstring('user').cstring('a').byte(0).build();
    reader.push(packet.subarray(0, 3));
    assert.equal(reader.nextStartupPacket(10240), undefined);
    reader.push(packet.subarray(3));
    assert.deepEqual(reader.nextStartupPacket(10240), packet);
    reader.push(Buffer.from([0, 0, 0x28, 1]));
    // No start-up packet at all: PostgreSQL closes without a word, and so does the PEP.
    assert.throws(() => reader.nextStartupPacket(10240), UnreadableStartupPacketError);
  });
});
