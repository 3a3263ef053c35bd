import { loadPdpConfig, runSessionsCommand } from '@portcullis/pdp';

export interface SessionsCliRun {
  readonly code: number;
  /** Exactly the bytes written to standard output. */
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `portcullis sessions …` in-process against a state folder, capturing its output as bytes. */
export async function sessionsCli(stateDir: string, ...args: string[]): Promise<SessionsCliRun> {
  const stdout: Buffer[] = [];
  let stderr = '';
  const code = await runSessionsCommand(args, loadPdpConfig({ PORTCULLIS_STATE_DIR: stateDir }), {
    stdout: { write: (chunk: string | Uint8Array) => stdout.push(Buffer.from(chunk)) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout: Buffer.concat(stdout), stderr };
}
