// Types of hidden-characters.js, the one list of hidden characters the web console loads and the
// PDP and the terminal console import.

/** Every hidden character, one match each (astral tag characters included). */
export declare const HIDDEN_CHARACTER: RegExp;
/** The short name shown in a badge: CR, ZWSP, RLO … or U+XXXX. */
export declare function hiddenCharacterName(character: string): string;
/** The text with each hidden character written as ⟨NAME⟩, for plain-text places (notices, titles). */
export declare function namedText(text: unknown): string;
/** Every code point outside printable ASCII (and \n) as an escape: the text, unambiguous. */
export declare function escapedText(text: string): string;
