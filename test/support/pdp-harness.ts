import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPdpConfig } from '@portcullis/pdp';
import { REPOSITORY_ROOT } from './repository-root.ts';
import { startPdp, type RunningPdp } from '@portcullis/pdp';
import type { DevTokenRequest } from '@portcullis/pdp';

export const BUNDLE_PATH = join(REPOSITORY_ROOT, 'policies/build/bundle.tar.gz');

/** Builds the starter pack's WASM bundle once per test run (the real opa toolchain). */
export function ensureStarterBundle(): string {
  if (!existsSync(BUNDLE_PATH)) {
    execFileSync(process.execPath, [join(REPOSITORY_ROOT, 'policies/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return BUNDLE_PATH;
}

/** The opa binary, as scripts/components.sh installs it (on first use). */
export function installedOpa(): string {
  return execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

export interface TestPdp {
  readonly url: string;
  readonly pdp: RunningPdp;
  readonly stateDir: string;
  /** What the PDP logged so far. */
  readonly logs: readonly string[];
  /** A PEP credential bound to every resource (`*`): the harness asks about any resource policy knows. */
  readonly pepToken: string;
  /** An agent's (subject) token, or with `resources` and role pep a PEP's. */
  token(request: Omit<DevTokenRequest, 'ttlSeconds'> & { ttlSeconds?: number }): Promise<string>;
  /** A console session (the console audience): what votes, the approvals socket and the console's APIs take. */
  consoleToken(request: Omit<DevTokenRequest, 'ttlSeconds' | 'console' | 'audience'> & { ttlSeconds?: number }): Promise<string>;
  /** A PEP credential bound to `resources` (names or globs). */
  pepTokenFor(resources: readonly string[], sub?: string): Promise<string>;
  decide(body: unknown, pepToken?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** GET /health with a monitor's token: the detail (bundle, audit, approvals), whatever the status. */
  health(): Promise<any>;
  /** GET /metrics with a monitor's token. */
  metrics(): Promise<string>;
  auditEvents(stream?: string): Promise<Record<string, unknown>[]>;
  /** Stops the PDP; the state folder (audit files, keys) is removed unless asked to keep it. */
  close(options?: { keepState?: boolean }): Promise<void>;
}

/** A real PDP on 127.0.0.1, port 0, with a private state folder and the starter bundle. */
export async function startTestPdp(env: Record<string, string> = {}): Promise<TestPdp> {
  // A given state folder lets a test restart "the same" PDP (keys, audit spool, chain signer).
  const stateDir = env.PORTCULLIS_STATE_DIR ?? mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  const config = loadPdpConfig({
    PORTCULLIS_PORT: '0',
    PORTCULLIS_STATE_DIR: stateDir,
    PORTCULLIS_POLICY_WORKERS: '1',
    ...(env.PORTCULLIS_POLICY_DIR || env.PORTCULLIS_BUNDLE_URL ? {} : { PORTCULLIS_BUNDLE_FILE: ensureStarterBundle() }),
    // A Rego folder is compiled with the opa the component installer keeps (installed on first use).
    ...(env.PORTCULLIS_POLICY_DIR ? { PORTCULLIS_OPA_PATH: installedOpa() } : {}),
    ...env,
  });
  const logs: string[] = [];
  const pdp = await startPdp(config, (message) => logs.push(message));
  const issuer = pdp.devIssuer!;
  const token: TestPdp['token'] = (request) => issuer.issue({ ttlSeconds: 600, ...request });
  const consoleToken: TestPdp['consoleToken'] = (request) => issuer.issue({ ttlSeconds: 600, ...request, console: true });
  const pepTokenFor: TestPdp['pepTokenFor'] = (resources, sub = 'pep-test') => token({ sub, roles: ['pep'], resources });
  const pepToken = await pepTokenFor(['*']);
  const monitor = { authorization: `Bearer ${await token({ sub: 'monitor-test', roles: ['monitor'] })}` };
  return {
    url: pdp.url,
    pdp,
    stateDir,
    logs,
    pepToken,
    token,
    consoleToken,
    pepTokenFor,
    async decide(body, pep = pepToken) {
      const response = await fetch(`${pdp.url}/v1/decisions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${pep}` },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async health() {
      return (await fetch(`${pdp.url}/health`, { headers: monitor })).json();
    },
    async metrics() {
      const response = await fetch(`${pdp.url}/metrics`, { headers: monitor });
      if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
      return response.text();
    },
    async auditEvents(stream = 'decisions') {
      await pdp.flushAudit();
      const file = join(config.audit.directory, `${stream}.jsonl`);
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    async close(options) {
      await pdp.close();
      if (!options?.keepState) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
