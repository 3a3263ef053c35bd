// A SPDY/3 header block once decompressed: a 32-bit count of pairs, then each name and value as
// a 32-bit length and bytes; several values of one name are joined by NUL. The PEP reads the
// block as the API server's SPDY library does, and refuses what that library refuses (a name
// with capitals, a name twice) rather than choose one reading, then writes the block it read, so
// the API server is handed exactly the headers the PEP judged.

export class SpdyHeaderError extends Error {
  constructor(message: string) {
    super(`spdy headers: ${message}`);
    this.name = 'SpdyHeaderError';
  }
}

/** Header names (lower case) to their values, in the order they came. */
export type SpdyHeaders = ReadonlyMap<string, readonly string[]>;

const MAX_HEADERS = 64;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

export function parseHeaderBlock(block: Buffer): SpdyHeaders {
  let offset = 0;
  const read32 = (): number => {
    if (offset + 4 > block.length) throw new SpdyHeaderError('the block ends inside a length');
    const value = block.readUInt32BE(offset);
    offset += 4;
    return value;
  };
  const readBytes = (length: number): Buffer => {
    if (offset + length > block.length) throw new SpdyHeaderError('the block ends inside a name or value');
    const bytes = block.subarray(offset, offset + length);
    offset += length;
    return bytes;
  };
  const count = read32();
  if (count > MAX_HEADERS) throw new SpdyHeaderError(`${count} headers are more than allowed`);
  const headers = new Map<string, string[]>();
  for (let index = 0; index < count; index += 1) {
    const name = readBytes(read32()).toString('latin1');
    if (!HEADER_NAME.test(name)) throw new SpdyHeaderError(`the header name ${JSON.stringify(name.slice(0, 64))} is not a lower-case token`);
    if (headers.has(name)) throw new SpdyHeaderError(`the header ${name} appears twice`);
    const value = readBytes(read32()).toString('latin1');
    headers.set(name, value.split('\0'));
  }
  if (offset !== block.length) throw new SpdyHeaderError('bytes follow the last header');
  return headers;
}

export function writeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [uint32(headers.size)];
  for (const [name, values] of headers) {
    const nameBytes = Buffer.from(name, 'latin1');
    const valueBytes = Buffer.from(values.join('\0'), 'latin1');
    parts.push(uint32(nameBytes.length), nameBytes, uint32(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

/** The one value of a header, or undefined when it is absent or has several (which the PEP never guesses between). */
export function singleHeader(headers: SpdyHeaders, name: string): string | undefined {
  const values = headers.get(name);
  return values?.length === 1 ? values[0] : undefined;
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}
