/** One server-sent event as the MCP transports use them: its name (`message` unless given) and its data. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Reads an event stream as it arrives, chunk by chunk: lines end with LF, CRLF or CR, a blank
 * line ends an event, `data:` lines join with LF, comments and ids are skipped (the gateway keeps
 * no resumption state), and so are events whose data is empty. An event may not grow past `maxChars` characters before its blank line: `push` then
 * returns `false` and the stream should be dropped, as a server's message past the bound is.
 */
export class SseEventReader {
  private carry = '';
  private event = '';
  private data: string[] = [];
  private dataChars = 0;
  private lastWasCr = false;

  constructor(
    private readonly maxChars: number,
    private readonly onEvent: (event: SseEvent) => void,
  ) {}

  push(chunk: string): boolean {
    let text = chunk;
    // A CR LF split between two chunks: the LF was already counted with the CR.
    if (this.lastWasCr && text.startsWith('\n')) text = text.slice(1);
    this.lastWasCr = false;
    let start = 0;
    // Each found once per chunk and moved on only when passed: one scan of the chunk, however many lines.
    let lf = text.indexOf('\n');
    let cr = text.indexOf('\r');
    for (;;) {
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(lf, cr);
      if (end === -1) break;
      const line = this.carry + text.slice(start, end);
      this.carry = '';
      let next = end + 1;
      if (text.charCodeAt(end) === 13) {
        if (next === text.length) this.lastWasCr = true;
        else if (text.charCodeAt(next) === 10) next += 1;
      }
      start = next;
      if (!this.line(line)) return false;
    }
    this.carry += text.slice(start);
    return this.carry.length + this.dataChars <= this.maxChars;
  }

  private line(line: string): boolean {
    if (line === '') {
      // An event whose data is empty carries no message: a server's priming event (an id and an
      // empty `data:`, sent first so a stream can be resumed) or a keep-alive. Skipped, as the SDK's
      // client skips it, rather than read as JSON that is not there.
      const data = this.data.join('\n');
      if (data !== '') this.onEvent({ event: this.event || 'message', data });
      this.event = '';
      this.data = [];
      this.dataChars = 0;
      return true;
    }
    if (line.charCodeAt(0) === 58) return true;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.dataChars += value.length + 1;
      return this.dataChars <= this.maxChars;
    }
    if (field === 'event') this.event = value;
    return true;
  }
}
