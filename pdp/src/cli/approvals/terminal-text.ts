/**
 * Text for a terminal. Every string that came from the PDP (SQL, commands, names, reasons) passes
 * through `printable` first: an agent controls what it asks to run, and escape sequences,
 * invisible or direction-changing characters in it must not repaint, reorder or hide anything on
 * the approver's screen.
 */
import { HIDDEN_CHARACTER, hiddenCharacterName } from '../../approvals/hidden-characters.ts';

/** The text with every control and hidden character shown by name, never interpreted: tab → space, ESC → ⟨ESC⟩, U+202E → ⟨RLO⟩ … */
export function printable(text: string): string {
  return text.replace(/\t/g, ' ').replace(HIDDEN_CHARACTER, (char) => `⟨${hiddenCharacterName(char)}⟩`);
}

/** One line: line breaks become ⏎, whitespace runs collapse, controls are shown. */
export function printableLine(text: string): string {
  return printable(text.replace(/\r?\n/g, ' ⏎ ').replace(/[ \t]+/g, ' ').trim());
}

/** Exactly `width` columns: cut with … when longer, padded when shorter. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length > width) return `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
  return text + ' '.repeat(width - chars.length);
}

/** Cut with … when longer than `width`, never padded. */
export function clip(text: string, width: number): string {
  const chars = [...text];
  return chars.length > width ? `${chars.slice(0, Math.max(0, width - 1)).join('')}…` : text;
}

/** Hard-wraps text into lines of at most `width` columns (line breaks kept). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const chars = [...printable(raw)];
    if (chars.length === 0) lines.push('');
    for (let start = 0; start < chars.length; start += Math.max(1, width)) lines.push(chars.slice(start, start + Math.max(1, width)).join(''));
  }
  return lines;
}

export type Style = 'bold' | 'dim' | 'reverse' | 'red' | 'green' | 'yellow' | 'cyan' | 'alert' | 'italic';

const SGR: Record<Style, string> = {
  bold: '1',
  dim: '2',
  reverse: '7',
  red: '31',
  green: '32',
  yellow: '33',
  cyan: '36',
  alert: '1;97;41',
  italic: '3',
};

/** A run of text with its look; a line is a list of them. */
export interface Segment {
  readonly text: string;
  readonly styles?: readonly Style[];
}

export const seg = (text: string, ...styles: Style[]): Segment => ({ text, styles });

/** Paints segments into at most `width` columns (cut with …), with ANSI styles when `color`. */
export function paint(segments: readonly Segment[], width: number, color: boolean): string {
  let out = '';
  let room = width;
  for (const segment of segments) {
    if (room <= 0) break;
    const chars = [...segment.text];
    const text = chars.length > room ? `${chars.slice(0, Math.max(0, room - 1)).join('')}…` : segment.text;
    room -= Math.min(chars.length, room);
    out += color && segment.styles?.length ? `\x1b[${segment.styles.map((style) => SGR[style]).join(';')}m${text}\x1b[0m` : text;
  }
  return out;
}

/** The visible length of segments (one column per code point). */
export function segmentsWidth(segments: readonly Segment[]): number {
  return segments.reduce((sum, segment) => sum + [...segment.text].length, 0);
}
