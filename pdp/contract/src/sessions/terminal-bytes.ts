/**
 * Terminal bytes as asciicast text and back, exactly. asciicast v2 carries what a terminal was
 * sent as JSON strings, but a terminal may be sent any bytes (a binary `cat`, a Latin-1 file,
 * a UTF-8 character split across two reads). Valid UTF-8 becomes its characters; each byte that
 * is not part of valid UTF-8 becomes one lone low surrogate U+DC80–U+DCFF (the "surrogateescape"
 * convention), which valid UTF-8 can never produce, so `terminalTextToBytes` gives back the
 * very bytes. A player that knows nothing of this shows a replacement character for such a byte.
 */

const ESCAPE_BASE = 0xdc00;
const encoder = new TextEncoder();

/** Decodes one direction of a terminal stream; a character split across writes is held for the next. */
export class TerminalTextDecoder {
  private carry: Uint8Array = new Uint8Array(0);

  /** The text of `bytes` (and of what an earlier write held back); an unfinished character at the end waits. */
  write(bytes: Uint8Array): string {
    const input = this.carry.length === 0 ? bytes : concat(this.carry, bytes);
    const { text, consumed } = decodeBytes(input, false);
    this.carry = consumed === input.length ? new Uint8Array(0) : input.slice(consumed);
    return text;
  }

  /** Bytes held back for an unfinished character: at the end they are what they are, escaped. */
  end(): string {
    const { text } = decodeBytes(this.carry, true);
    this.carry = new Uint8Array(0);
    return text;
  }

  /** How many bytes wait for the rest of a character. */
  get pending(): number {
    return this.carry.length;
  }
}

/** The bytes an asciicast text stands for (see the module comment). */
export function terminalTextToBytes(text: string): Uint8Array {
  if (!/[\ud800-\udfff]/.test(text)) return encoder.encode(text);
  const parts: Uint8Array[] = [];
  let runStart = 0;
  let index = 0;
  while (index < text.length) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      // A surrogate pair is one character of valid UTF-8, escaped bytes never follow as its second half.
      if (next >= 0xdc00 && next <= 0xdfff) {
        index += 2;
        continue;
      }
    }
    if (unit >= 0xdc80 && unit <= 0xdcff) {
      if (index > runStart) parts.push(encoder.encode(text.slice(runStart, index)));
      parts.push(Uint8Array.of(unit - ESCAPE_BASE));
      runStart = index + 1;
    }
    index += 1;
  }
  if (runStart < text.length) parts.push(encoder.encode(text.slice(runStart)));
  return parts.length === 1 ? parts[0]! : concat(...parts);
}

/** Decodes `bytes`; unless `final`, an unfinished (so far valid) character at the end is left unconsumed. */
function decodeBytes(bytes: Uint8Array, final: boolean): { text: string; consumed: number } {
  // UTF-16 code units into a buffer, turned into text a slice at a time: binary output (mostly
  // escapes) costs no more than text.
  const units = new Uint16Array(bytes.length);
  let count = 0;
  let index = 0;
  let consumed = bytes.length;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      units[count++] = lead;
      index += 1;
      continue;
    }
    const length = sequenceLength(bytes, index);
    if (length === 0 && !final) {
      // Valid so far but cut off by the end of this write: keep it for the next one.
      consumed = index;
      break;
    }
    if (length <= 0) {
      units[count++] = ESCAPE_BASE + lead;
      index += 1;
      continue;
    }
    let point = lead & (length === 2 ? 0x1f : length === 3 ? 0x0f : 0x07);
    for (let offset = 1; offset < length; offset += 1) point = (point << 6) | (bytes[index + offset]! & 0x3f);
    if (point >= 0x10000) {
      point -= 0x10000;
      units[count++] = 0xd800 + (point >> 10);
      units[count++] = 0xdc00 + (point & 0x3ff);
    } else {
      units[count++] = point;
    }
    index += length;
  }
  let text = '';
  for (let from = 0; from < count; from += 8192) text += String.fromCharCode(...units.subarray(from, Math.min(from + 8192, count)));
  return { text, consumed };
}

/**
 * The length of the valid UTF-8 sequence starting at `index` (2–4), 0 when it is valid so far
 * but the bytes end first, -1 when it is not valid UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).
 */
function sequenceLength(bytes: Uint8Array, index: number): number {
  const lead = bytes[index]!;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return -1;
  for (let offset = 1; offset < length; offset += 1) {
    if (index + offset >= bytes.length) return 0;
    const byte = bytes[index + offset]!;
    const [min, max] = offset === 1 ? [low, high] : [0x80, 0xbf];
    if (byte < min || byte > max) return -1;
  }
  return length;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
