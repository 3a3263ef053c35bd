// SPDY/3.1 frames, header blocks and their zlib contexts: a SYN_STREAM's headers read the way
// the API server's SPDY library reads them, whatever the chunking, and written back so that a
// peer inflating with the SPDY/3 dictionary reads the same headers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, createDeflate, createInflate } from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from '../src/upgrades/spdy-dictionary.ts';
import { parseHeaderBlock, singleHeader, SpdyHeaderError, writeHeaderBlock } from '../src/upgrades/spdy-header-block.ts';
import { SpdyHeaderDeflater, SpdyHeaderInflater } from '../src/upgrades/spdy-header-zlib.ts';
import {
  encodeSpdyFrame,
  readSynStream,
  rstStreamFrame,
  SPDY_CONTROL,
  SpdyFrameReader,
  SpdyProtocolError,
  streamIdOf,
  writeSynStream,
  type SpdyFrame,
} from '../src/upgrades/spdy-frames.ts';

function headers(entries: [string, string[]][]): Map<string, string[]> {
  return new Map(entries);
}

/** Compresses blocks in order with one context, as a SPDY peer does (Node's zlib standing in for the peer's). */
async function peerCompress(blocks: Buffer[]): Promise<Buffer[]> {
  const deflate = createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  const out: Buffer[] = [];
  for (const block of blocks) {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): number => chunks.push(chunk);
    deflate.on('data', onData);
    deflate.write(block);
    await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    deflate.off('data', onData);
    out.push(Buffer.concat(chunks));
  }
  deflate.close();
  return out;
}

describe('SPDY frames', () => {
  it('reads control and data frames from a stream cut at every offset', () => {
    const frames: SpdyFrame[] = [
      { kind: 'control', type: SPDY_CONTROL.ping, flags: 0, payload: Buffer.from([0, 0, 0, 1]) },
      { kind: 'data', streamId: 3, flags: 0, data: Buffer.from('hello') },
      { kind: 'data', streamId: 5, flags: 1, data: Buffer.alloc(0) },
      { kind: 'control', type: SPDY_CONTROL.rstStream, flags: 0, payload: rstStreamFrame(7, 3).subarray(8) },
    ];
    const stream = Buffer.concat(frames.map(encodeSpdyFrame));
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const reader = new SpdyFrameReader(1 << 20);
      const read = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      assert.deepEqual(read, frames, `cut at ${cut}`);
      assert.equal(reader.pendingBytes, 0);
    }
    assert.equal(streamIdOf(rstStreamFrame(7, 3).subarray(8)), 7);
  });

  it('reads and writes a SYN_STREAM\'s fixed fields', () => {
    const syn = { streamId: 5, associatedStreamId: 0, priorityByte: 0x40, slot: 0, headerBlock: Buffer.from('compressed') };
    assert.deepEqual(readSynStream(writeSynStream(syn)), syn);
    assert.throws(() => readSynStream(Buffer.alloc(9)), SpdyProtocolError);
    assert.throws(() => readSynStream(writeSynStream({ ...syn, streamId: 0 })), /stream 0/);
  });

  it('refuses frames of another version, data on stream 0 and frames past the limit', () => {
    const ping = encodeSpdyFrame({ kind: 'control', type: SPDY_CONTROL.ping, flags: 0, payload: Buffer.alloc(4) });
    ping.writeUInt16BE(0x8002, 0);
    assert.throws(() => new SpdyFrameReader(1024).push(ping), /version 2/);
    assert.throws(() => new SpdyFrameReader(1024).push(encodeSpdyFrame({ kind: 'data', streamId: 0, flags: 0, data: Buffer.alloc(1) })), /stream 0/);
    // The length alone refuses it: the body is never waited for.
    assert.throws(() => new SpdyFrameReader(16).push(encodeSpdyFrame({ kind: 'data', streamId: 1, flags: 0, data: Buffer.alloc(17) }).subarray(0, 8)), /larger than allowed/);
  });
});

describe('SPDY header blocks', () => {
  it('reads names with their NUL-separated values, and writes the same block back', () => {
    const block = writeHeaderBlock(headers([['streamtype', ['data']], ['port', ['8080']], ['requestid', ['0']], ['x', ['a', 'b']]]));
    const read = parseHeaderBlock(block);
    assert.deepEqual([...read], [['streamtype', ['data']], ['port', ['8080']], ['requestid', ['0']], ['x', ['a', 'b']]]);
    assert.deepEqual(writeHeaderBlock(read), block);
    assert.equal(singleHeader(read, 'port'), '8080');
    assert.equal(singleHeader(read, 'x'), undefined, 'two values are never chosen between');
    assert.equal(singleHeader(read, 'absent'), undefined);
  });

  it('refuses what the API server\'s SPDY library refuses or could read otherwise', () => {
    const cases: [string, Buffer][] = [
      ['capital letters', writeHeaderBlock(headers([['Port', ['1']]]))],
      ['a name twice', Buffer.concat([writeHeaderBlock(headers([['port', ['1']]])).subarray(0, 4), ...[1, 2].map((port) => writeHeaderBlock(headers([['port', [String(port)]]])).subarray(4))])],
      ['an empty name', writeHeaderBlock(headers([['', ['1']]]))],
      ['trailing bytes', Buffer.concat([writeHeaderBlock(headers([['port', ['1']]])), Buffer.from([0])])],
      ['a truncated value', writeHeaderBlock(headers([['port', ['8080']]])).subarray(0, 15)],
    ];
    for (const [name, block] of cases) assert.throws(() => parseHeaderBlock(block), SpdyHeaderError, name);
    // The count is fixed up for the duplicate case above.
    const duplicate = cases[1]![1];
    duplicate.writeUInt32BE(2, 0);
    assert.throws(() => parseHeaderBlock(duplicate), /appears twice/);
  });
});

describe('SPDY header compression', () => {
  it('inflates a peer\'s blocks in order with one context preset with the SPDY/3 dictionary', async () => {
    const blocks = [1, 2, 3].map((id) => writeHeaderBlock(headers([['streamtype', ['error']], ['port', ['8080']], ['requestid', [String(id)]]])));
    const compressed = await peerCompress(blocks);
    // The zlib stream names the dictionary by its Adler-32: the SPDY/3 one.
    assert.equal(compressed[0]!.subarray(2, 6).toString('hex'), 'e3c6a7c2');
    const inflater = new SpdyHeaderInflater();
    const read = await Promise.all(compressed.map((block) => inflater.inflate(block)));
    assert.deepEqual(read, blocks);
    inflater.close();
  });

  it('deflates blocks that a peer\'s inflater reads in order', async () => {
    const deflater = new SpdyHeaderDeflater();
    const blocks = ['8080', '9090'].map((port) => writeHeaderBlock(headers([['streamtype', ['data']], ['port', [port]]])));
    const compressed = [await deflater.deflate(blocks[0]!), await deflater.deflate(blocks[1]!)];
    deflater.close();
    const inflate = createInflate({ dictionary: SPDY3_HEADER_DICTIONARY });
    const read: Buffer[] = [];
    for (const block of compressed) {
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer): number => chunks.push(chunk);
      inflate.on('data', onData);
      inflate.write(block);
      await new Promise<void>((resolve) => inflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
      inflate.off('data', onData);
      read.push(Buffer.concat(chunks));
    }
    inflate.close();
    assert.deepEqual(read, blocks);
  });

  it('refuses a block that is no zlib data, and one that inflates past the limit', async () => {
    await assert.rejects(new SpdyHeaderInflater().inflate(Buffer.from('not zlib at all')), SpdyHeaderError);
    const [bomb] = await peerCompress([Buffer.alloc(200_000)]);
    assert.ok(bomb!.length < 1000);
    const inflater = new SpdyHeaderInflater();
    await assert.rejects(inflater.inflate(bomb!), /larger than allowed/);
    // The context is spent: later blocks are refused too, never read out of step.
    await assert.rejects(inflater.inflate(Buffer.alloc(0)), SpdyHeaderError);
    inflater.close();
  });
});
