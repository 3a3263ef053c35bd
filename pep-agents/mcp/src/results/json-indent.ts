/**
 * The indentation a JSON text was written with (two spaces, a tab …), so a masked document
 * written again looks like the server's; undefined for a text on one line.
 */
export function jsonIndentOf(text: string): string | undefined {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1];
  return indent === undefined || indent.length > 10 ? undefined : indent;
}
