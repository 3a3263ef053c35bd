// Drives the real `portcullis` CLI as a child process against a test PDP, and makes approval
// requests the way a PEP does (POST /v1/decisions), for the approvals CLI suites.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../support/repository-root.ts';
import type { TestPdp } from '../../support/pdp-harness.ts';

export const CLI = join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI's environment: the PDP's state folder (for --as), and no credential inherited by accident. */
export function cliEnv(pdp: Pick<TestPdp, 'stateDir'>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORTCULLIS_STATE_DIR: pdp.stateDir, NO_COLOR: '1', ...extra };
  if (extra.PORTCULLIS_TOKEN === undefined) delete env.PORTCULLIS_TOKEN;
  return env;
}

/** Runs `portcullis approvals …` to completion (asynchronously: the PDP shares this event loop). */
export function runApprovals(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'approvals', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running `portcullis approvals watch`: its output so far, and a way to wait for a line. */
export interface WatchProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the first stdout line that matches; fails if the process exits first or after `timeoutMs`. */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves once stderr contains the text. */
  stderrIncludes(text: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
}

export function startWatch(args: string[], env: NodeJS.ProcessEnv): WatchProcess {
  const child = spawn(process.execPath, [CLI, 'approvals', 'watch', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const changed = (): void => {
    for (const check of [...waiters]) check();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    changed();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    changed();
  });
  child.on('close', changed);
  const waitFor = <T>(found: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`watch: no ${what} within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
      const check = (): void => {
        const value = found();
        if (value !== undefined) finish(undefined, value);
        else if (child.exitCode !== null) finish(new Error(`watch exited (${child.exitCode}) before ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      };
      function finish(error: Error | undefined, value?: T): void {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(value as T);
      }
      waiters.add(check);
      check();
    });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    line: (match, timeoutMs = 20_000) => waitFor(() => stdout.split('\n').slice(0, -1).find(match), 'matching line', timeoutMs),
    stderrIncludes: (text, timeoutMs = 20_000) => waitFor(() => (stderr.includes(text) ? true : undefined), `"${text}" on stderr`, timeoutMs).then(() => undefined),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('close', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

export const ORDERS_DB = { type: 'postgres', name: 'orders-db', environment: 'production' } as const;

/** An agent with write access: its writes on production need approval under the starter pack. */
export function agentToken(pdp: TestPdp, sub = 'agent-ops'): Promise<string> {
  return pdp.token({ sub, roles: ['reader', 'writer'], kind: 'agent' });
}

/** Asks the PDP as a PEP does and returns the approval it opened. */
export async function requestApproval(pdp: TestPdp, subjectToken: string, sql: string): Promise<{ id: string; decisionBody: Record<string, unknown> }> {
  const body = { subject_token: subjectToken, resource: ORDERS_DB, action: { type: 'sql', sql } };
  const answer = await pdp.decide(body);
  const approval = answer.body.approval as { id?: string } | undefined;
  if (answer.body.effect !== 'approval_required' || typeof approval?.id !== 'string') {
    throw new Error(`expected approval_required, got ${JSON.stringify(answer.body)}`);
  }
  return { id: approval.id, decisionBody: body };
}

export interface ApprovalState {
  status: string;
  decisions: { approver: string; verdict: string; reason: string }[];
}

/** The PEP's long-poll: resolves when the approval leaves pending (or the wait ends). */
export async function waitForApproval(pdp: TestPdp, id: string, seconds = 30): Promise<ApprovalState> {
  const response = await fetch(`${pdp.url}/v1/approvals/${id}?wait=${seconds}`, { headers: { authorization: `Bearer ${pdp.pepToken}` } });
  if (!response.ok) throw new Error(`GET /v1/approvals/${id} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { approval: ApprovalState }).approval;
}
