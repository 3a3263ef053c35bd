// Resize messages of exec and attach: JSON objects `{"Width":…,"Height":…}`, one per WebSocket
// message, or a stream of them on a SPDY resize stream (newline-separated, cut anywhere).

export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

const MAX_PENDING = 4096;

export class TerminalSizeReader {
  private pending = '';

  /** The sizes the bytes complete; text that is no size object is dropped (it resizes nothing). */
  push(bytes: Buffer): TerminalSize[] {
    this.pending += bytes.toString('utf8');
    const sizes: TerminalSize[] = [];
    for (;;) {
      const end = this.pending.indexOf('}');
      if (end < 0) break;
      const text = this.pending.slice(0, end + 1);
      this.pending = this.pending.slice(end + 1);
      const size = terminalSize(text);
      if (size) sizes.push(size);
    }
    // A client that never closes its object gets no unbounded buffer.
    if (this.pending.length > MAX_PENDING) this.pending = '';
    return sizes;
  }
}

function terminalSize(text: string): TerminalSize | undefined {
  try {
    const value: unknown = JSON.parse(text.trim());
    if (typeof value !== 'object' || value === null) return undefined;
    const { Width: cols, Height: rows } = value as { Width?: unknown; Height?: unknown };
    if (typeof cols !== 'number' || typeof rows !== 'number') return undefined;
    return { cols, rows };
  } catch {
    return undefined;
  }
}
