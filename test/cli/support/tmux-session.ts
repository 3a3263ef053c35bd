// A real terminal for a full-screen program in tests: a detached tmux session on a private
// server (its socket in a temporary folder), driven with send-keys and read with capture-pane.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../../support/eventually.ts';

const run = promisify(execFile);

export class TmuxSession {
  private constructor(
    private readonly socket: string,
    private readonly folder: string,
  ) {}

  /** Starts `command` (argv, no shell) in a `width`×`height` terminal. */
  static async start(command: string[], env: NodeJS.ProcessEnv, width = 160, height = 40): Promise<TmuxSession> {
    const folder = mkdtempSync(join(tmpdir(), 'portcullis-tmux-'));
    // Its own configuration: no status bar (the pane is the whole terminal), and a pane that
    // stays after its program exits so the test can read the exit status.
    writeFileSync(join(folder, 'tmux.conf'), 'set -g status off\nset -g remain-on-exit on\n');
    const session = new TmuxSession(join(folder, 'tmux.sock'), folder);
    // The exit status is written by a wrapping shell: tmux can mark a pane dead before it has
    // collected the status (#{pane_dead_status} then stays empty).
    const wrapped = ['sh', '-c', '"$@"; echo $? > "$STATUS_FILE"', 'sh', ...command];
    await session.tmux(['-f', join(folder, 'tmux.conf'), 'new-session', '-d', '-s', 'main', '-x', String(width), '-y', String(height), '-e', `STATUS_FILE=${session.statusFile}`, ...wrapped], env);
    return session;
  }

  private get statusFile(): string {
    return join(this.folder, 'exit-status');
  }

  /** The screen as text, one line per row (styles dropped). */
  async screen(): Promise<string> {
    return (await this.tmux(['capture-pane', '-p', '-t', 'main'])).stdout;
  }

  /** The screen with its styles: each row as runs of text and the SGR attributes (numbers) in force. */
  async styledScreen(): Promise<{ text: string; attributes: ReadonlySet<string> }[][]> {
    const { stdout } = await this.tmux(['capture-pane', '-p', '-e', '-t', 'main']);
    return stdout.split('\n').map((row) => {
      const runs: { text: string; attributes: Set<string> }[] = [];
      let attributes = new Set<string>();
      for (const part of row.split(/(\x1b\[[\d;]*m)/)) {
        const sgr = /^\x1b\[([\d;]*)m$/.exec(part);
        if (sgr !== null) {
          attributes = new Set(attributes);
          for (const code of (sgr[1] || '0').split(';')) {
            if (code === '0' || code === '') attributes.clear();
            else attributes.add(code);
          }
        } else if (part !== '') runs.push({ text: part, attributes });
      }
      return runs;
    });
  }

  /** Waits until the screen satisfies `test`; fails with the last screen after `timeoutMs`. */
  async waitFor(test: (screen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    let screen = '';
    try {
      return await eventually(`the terminal shows ${what}`, async () => {
        screen = await this.screen();
        return test(screen) && screen;
      }, { timeoutMs, intervalMs: 100 });
    } catch (error) {
      throw new Error(`${(error as Error).message}; last screen:\n${screen}`);
    }
  }

  /** Named keys as tmux knows them: `Up`, `Down`, `Enter`, `Escape`, or single characters. */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /** Types text literally. */
  async type(text: string): Promise<void> {
    await this.tmux(['send-keys', '-t', 'main', '-l', text]);
  }

  /** The program's exit status once it has exited. */
  exitStatus(): number | undefined {
    return existsSync(this.statusFile) ? Number(readFileSync(this.statusFile, 'utf8').trim()) : undefined;
  }

  async close(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => undefined);
    rmSync(this.folder, { recursive: true, force: true });
  }

  private tmux(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string }> {
    return run('tmux', ['-S', this.socket, ...args], { env, encoding: 'utf8' });
  }
}
