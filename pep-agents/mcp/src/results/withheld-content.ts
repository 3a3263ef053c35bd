type Json = Record<string, unknown>;

/** The text that stands in for content no mask can reach into (an image, a blob, text no path can read). */
export function withheldNotice(what: string): string {
  return `[portcullis: ${what} withheld: policy masks this result, and this content cannot be masked]`;
}

/** A content block (tool result, prompt message) in place of one that was withheld; its annotations stay. */
export function withheldTextBlock(what: string, block?: Json): Json {
  return { type: 'text', text: withheldNotice(what), ...(block?.annotations === undefined ? {} : { annotations: block.annotations }) };
}

/** Resource contents in place of ones withheld: the URI (and what else names them) stays, the data goes. */
export function withheldContents(contents: Json, what: string): Json {
  const { text: _text, blob: _blob, mimeType: _mimeType, ...rest } = contents;
  return { ...rest, mimeType: 'text/plain', text: withheldNotice(what) };
}

/**
 * Whether a value is binary content as MCP carries it: an image or audio block (base64 `data`),
 * or resource contents with a `blob`. Servers repeat their content blocks in `structuredContent`
 * (the reference filesystem server does), so these are looked for there too.
 */
export function binaryKind(value: Json): string | undefined {
  if ((value.type === 'image' || value.type === 'audio') && typeof value.data === 'string') return `${value.type} content`;
  if (typeof value.blob === 'string') return 'binary content';
  return undefined;
}

/** Binary content replaced by a notice in the same place. */
export function withheldBinary(value: Json, what: string): Json {
  return typeof value.blob === 'string' ? withheldContents(value, what) : withheldTextBlock(what, value);
}
