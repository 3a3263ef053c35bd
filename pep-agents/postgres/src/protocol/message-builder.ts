/** Builds one protocol message field by field; `build` adds the type byte and the length. */
export class MessageBuilder {
  private readonly parts: Buffer[] = [];
  private size = 0;

  byte(value: number): this {
    return this.push(Buffer.from([value & 0xff]));
  }

  int16(value: number): this {
    const part = Buffer.allocUnsafe(2);
    part.writeInt16BE(value);
    return this.push(part);
  }

  int32(value: number): this {
    const part = Buffer.allocUnsafe(4);
    part.writeInt32BE(value);
    return this.push(part);
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(value: string): this {
    const text = Buffer.from(value, 'utf8');
    return this.push(text).push(Buffer.from([0]));
  }

  bytes(value: Buffer): this {
    return this.push(value);
  }

  /** A typed message (`type` is its one-letter code), or an untyped start-up packet without one. */
  build(type?: string): Buffer {
    const headerSize = type === undefined ? 4 : 5;
    const message = Buffer.allocUnsafe(headerSize + this.size);
    let offset = 0;
    if (type !== undefined) message[offset++] = type.charCodeAt(0);
    message.writeInt32BE(4 + this.size, offset);
    offset += 4;
    for (const part of this.parts) offset += part.copy(message, offset);
    return message;
  }

  private push(part: Buffer): this {
    this.parts.push(part);
    this.size += part.length;
    return this;
  }
}
