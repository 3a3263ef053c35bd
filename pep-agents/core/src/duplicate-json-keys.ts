/**
 * The first member name that appears twice in one object of a JSON text, after escapes are
 * decoded ("a" and "\u0061" are one name, and so are two names that differ only in lone
 * surrogate escapes, both U+FFFD to Go's decoder), or undefined. JSON.parse keeps the last of
 * them; other readers keep the first or merge them (Go's decoder decodes each in turn into the
 * same value, so `{"spec":{"hostNetwork":true},"spec":{…}}` stores hostNetwork where JSON.parse
 * shows only the second). A PEP that decides what it parsed refuses such a text rather than
 * guess which reading the resource would make. The text is valid JSON (JSON.parse accepted it).
 */
export function duplicateJsonKey(text: string): string | undefined {
  // One entry per open container: the names seen so far in an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectingName = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '"') {
      const end = stringEnd(text, index);
      const top = open.at(-1);
      if (expectingName && top) {
        const name = asGoDecodes(JSON.parse(text.slice(index, end + 1)) as string);
        if (top.has(name)) return name;
        top.add(name);
        expectingName = false;
      }
      index = end;
    } else if (char === '{') {
      open.push(new Set());
      expectingName = true;
    } else if (char === '[') {
      open.push(null);
      expectingName = false;
    } else if (char === '}' || char === ']') {
      open.pop();
      expectingName = false;
    } else if (char === ',') {
      expectingName = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}

/** A lone surrogate escape (`\ud800`) is U+FFFD to Go's decoder: two names differing only there are one name to it. */
function asGoDecodes(name: string): string {
  return name.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === '\\') index += 2;
    else if (char === '"') return index;
    else index += 1;
  }
  return text.length - 1;
}
