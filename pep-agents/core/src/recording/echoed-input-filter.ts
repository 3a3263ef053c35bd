/**
 * Which typed input may be recorded: only what the terminal echoed back. A password typed at a
 * prompt that turned echo off (sudo, su, ssh, a database client) is never echoed, so it never
 * reaches the recording; what was echoed is in the output anyway, and the input adds when it was
 * typed. The PEP cannot see the remote terminal's echo setting (SSH sends terminal modes once, at
 * the PTY request), so the echo itself is the evidence.
 *
 * Typed text is cut into printable runs and control runs (Enter, Ctrl-C, arrow keys …). Control
 * runs are kept; a printable run is kept once the output since it was typed contains it, and
 * withheld once something typed after it was echoed, once 4 Ki characters of output passed
 * without it, or at the end. Conservative: keystrokes a
 * full-screen program acts on without echoing them (vim's `dd`) are withheld too.
 */

/** Output characters a printable run may wait for its echo before it is withheld. */
const ECHO_WINDOW_CHARS = 4096;
const TOKEN = /\x1b(?:\[[0-9;?]*[ -/]*[@-~]|O.|.)?|[\x00-\x1a\x1c-\x1f\x7f]+|[^\x00-\x1f\x7f]+/gsu;
const CONTROL = /^[\x00-\x1f\x7f]/;

interface HeldRun {
  readonly text: string;
  readonly control: boolean;
  /** Output characters seen since it was typed. */
  outputSince: number;
}

export class EchoedInputFilter {
  private readonly held: HeldRun[] = [];
  /** Output not yet matched against a held run. */
  private echo = '';
  private withheldChars = 0;

  /** Typed text: holds it until its echo decides. Returns what may be recorded now. */
  typed(text: string): string {
    for (const match of text.matchAll(TOKEN)) this.held.push({ text: match[0], control: CONTROL.test(match[0]), outputSince: 0 });
    return this.release();
  }

  /** Output sent to the client: the echo that releases held runs. Returns what may be recorded now (before this output). */
  echoed(text: string): string {
    if (this.held.length === 0) return '';
    this.echo += text;
    for (const run of this.held) run.outputSince += text.length;
    return this.release();
  }

  /** The end: what was never echoed is withheld. Returns the control runs still held. */
  end(): string {
    let kept = '';
    for (const run of this.held.splice(0)) {
      if (run.control) kept += run.text;
      else this.withheldChars += run.text.length;
    }
    this.echo = '';
    return kept;
  }

  /** Characters of typed text withheld so far. */
  get withheld(): number {
    return this.withheldChars;
  }

  private laterRunEchoed(): boolean {
    return this.held.some((run, index) => index > 0 && !run.control && this.echo.includes(run.text));
  }

  private release(): string {
    let kept = '';
    while (this.held.length > 0) {
      const run = this.held[0]!;
      if (run.control) {
        kept += run.text;
        this.held.shift();
        continue;
      }
      const at = this.echo.indexOf(run.text);
      if (at >= 0) {
        kept += run.text;
        this.echo = this.echo.slice(at + run.text.length);
        this.held.shift();
        continue;
      }
      // Echo comes in the order things were typed: a later run echoed means this one never was.
      if (run.outputSince < ECHO_WINDOW_CHARS + run.text.length && !this.laterRunEchoed()) break;
      this.withheldChars += run.text.length;
      this.held.shift();
    }
    // Output older than every held run can no longer echo one: keep only what a match may need.
    if (this.held.length === 0) this.echo = '';
    else if (this.echo.length > 2 * ECHO_WINDOW_CHARS) this.echo = this.echo.slice(-ECHO_WINDOW_CHARS);
    return kept;
  }
}
