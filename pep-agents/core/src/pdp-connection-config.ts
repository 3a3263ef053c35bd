import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configFail, integer, type EnvRead } from './env-values.ts';
import type { SecretSource } from './secret-source.ts';

/** How a PEP reaches the PDP; the same PORTCULLIS_PEP_* variables for every PEP. */
export interface PdpConnectionConfig {
  readonly url: string;
  /** The PEP's own token (role pep): a file, re-read when it changes, or a value. */
  readonly token: SecretSource;
  readonly timeoutMs: number;
  /** The longest a command is held for a person to approve it. */
  readonly approvalWaitMs: number;
  /** On shutdown, how long session records still queued may take to reach the PDP. */
  readonly shutdownGraceMs: number;
  /**
   * The session-record window: a lane's session events wait at most this long for company
   * before they ship (a full batch or a session's end ships at once). Default 500 ms.
   */
  readonly sessionBatchMs?: number;
}

/**
 * PORTCULLIS_PEP_PDP_URL, PORTCULLIS_PEP_TOKEN_FILE (or PORTCULLIS_PEP_TOKEN),
 * PORTCULLIS_PEP_PDP_TIMEOUT_MS, PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS,
 * PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS, PORTCULLIS_PEP_SESSION_BATCH_MS: checked, or a ConfigError naming the variable.
 */
export function readPdpConnectionConfig(read: EnvRead): PdpConnectionConfig {
  const tokenFile = read('PORTCULLIS_PEP_TOKEN_FILE');
  const tokenSet = read('PORTCULLIS_PEP_TOKEN') !== undefined;
  if (tokenFile && tokenSet) configFail('PORTCULLIS_PEP_TOKEN_FILE', 'set the token file or PORTCULLIS_PEP_TOKEN, not both');
  if (!tokenFile && !tokenSet) configFail('PORTCULLIS_PEP_TOKEN_FILE', 'is required (or PORTCULLIS_PEP_TOKEN)');
  if (tokenFile) readableFile('PORTCULLIS_PEP_TOKEN_FILE', tokenFile);

  const url = read('PORTCULLIS_PEP_PDP_URL') ?? 'http://127.0.0.1:8181';
  if (!/^https?:\/\/[^/]/.test(url)) configFail('PORTCULLIS_PEP_PDP_URL', `must be an http(s) URL (got "${url}")`);

  return {
    url,
    token: tokenFile ? { file: resolve(tokenFile) } : { env: 'PORTCULLIS_PEP_TOKEN' },
    timeoutMs: integer(read, 'PORTCULLIS_PEP_PDP_TIMEOUT_MS', 2000, 50, 60_000),
    approvalWaitMs: integer(read, 'PORTCULLIS_PEP_APPROVAL_WAIT_SECONDS', 300, 0, 86_400) * 1000,
    shutdownGraceMs: integer(read, 'PORTCULLIS_PEP_SHUTDOWN_GRACE_SECONDS', 10, 0, 600) * 1000,
    sessionBatchMs: integer(read, 'PORTCULLIS_PEP_SESSION_BATCH_MS', 500, 1, 5000),
  };
}

/** At start, so a wrong file fails the start rather than every decision later. */
export function readableFile(name: string, file: string): void {
  try {
    readFileSync(resolve(file));
  } catch (error) {
    configFail(name, `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
