// Characters a reader cannot see, or that change how the text around them looks. PostgreSQL
// reads every one of them (as whitespace, a line end, or part of a name), so an approver must
// see each of them, by name. The list itself is the web console's module, imported here so the
// PDP's findings and both consoles' badges come from one table.
import { HIDDEN_CHARACTER, hiddenCharacterName } from '../../console/js/hidden-characters.js';

export { escapedText, HIDDEN_CHARACTER, hiddenCharacterName } from '../../console/js/hidden-characters.js';

export interface HiddenCharacterCount {
  readonly name: string;
  readonly count: number;
}

/** The hidden characters of `text`, by name, in order of first appearance. */
export function hiddenCharactersIn(text: string): HiddenCharacterCount[] {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(HIDDEN_CHARACTER)) {
    const name = hiddenCharacterName(match[0]);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, count]) => ({ name, count }));
}
