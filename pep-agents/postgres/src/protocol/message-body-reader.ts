import { protocolViolation } from '../errors/pg-error.ts';

/** Reads the fields of one message body; running past its end is a protocol violation. */
export class MessageBodyReader {
  private offset = 0;

  constructor(
    private readonly body: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.body.length - this.offset;
  }

  byte(): number {
    this.need(1);
    return this.body[this.offset++]!;
  }

  int16(): number {
    this.need(2);
    const value = this.body.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** A NUL-terminated string, decoded as UTF-8. */
  cstring(): string {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw protocolViolation(`${this.what}: unterminated string`);
    const value = this.body.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return value;
  }

  bytes(count: number): Buffer {
    if (count < 0) throw protocolViolation(`${this.what}: negative length`);
    this.need(count);
    const value = this.body.subarray(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }

  rest(): Buffer {
    const value = this.body.subarray(this.offset);
    this.offset = this.body.length;
    return value;
  }

  /** The body must hold nothing more. */
  end(): void {
    if (this.remaining !== 0) throw protocolViolation(`${this.what}: ${this.remaining} unexpected bytes at the end`);
  }

  private need(count: number): void {
    if (this.offset + count > this.body.length) throw protocolViolation(`${this.what}: message too short`);
  }
}
