import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../test/support/repository-root.ts';
import { DevIssuer, devIssuerDirectory } from '@portcullis/pdp';
import { DECISION_MIX, MIX_SUBJECTS } from './decision-mix.ts';
import { freePort, nodeFlags, startService, type Service } from './processes.ts';

export interface PdpProcess extends Service {
  readonly url: string;
}

/**
 * Starts `portcullis serve` as its own process (as in production) and waits for /health. The
 * benches scrape /metrics and /health detail between runs from the local loopback: both are
 * opened to them (PORTCULLIS_METRICS_AUTH / _HEALTH_DETAIL_AUTH off) rather than each scrape
 * carrying a monitor token; what is measured, the decision path, is unchanged.
 */
export async function startPdpProcess(name: string, env: NodeJS.ProcessEnv, nodeOptions?: string): Promise<PdpProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = await startService(name, process.execPath, [...nodeFlags(nodeOptions), join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs'), 'serve'], {
    ...process.env, PORTCULLIS_METRICS_AUTH: 'false', PORTCULLIS_HEALTH_DETAIL_AUTH: 'false', ...env, PORTCULLIS_PORT: String(port),
  }, async () => (await fetch(`${url}/health`)).ok);
  return { ...service, url };
}

export interface PreparedMix {
  readonly pepToken: string;
  readonly tokens: Record<keyof typeof MIX_SUBJECTS, string>;
  /** The mix as /v1/decisions bodies, with real subject tokens. */
  readonly rawBodies: string[];
  readonly issuer: DevIssuer;
}

/** Mints the mix's tokens with the dev issuer of `stateDir`, which the PDP under test trusts. */
export async function prepareMix(stateDir: string): Promise<PreparedMix> {
  const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
  const tokens = Object.fromEntries(
    await Promise.all(Object.entries(MIX_SUBJECTS).map(async ([name, subject]) => [name, await issuer.issue({ ...subject, ttlSeconds: 3600 })] as const)),
  ) as Record<keyof typeof MIX_SUBJECTS, string>;
  // The mix asks about every resource policy knows: a PEP credential bound to all of them.
  const pepToken = await issuer.issue({ sub: 'pep-bench', roles: ['pep'], resources: ['*'], ttlSeconds: 3600 });
  const rawBodies = DECISION_MIX.map(({ subject, request }) => JSON.stringify({ ...request, subject_token: tokens[subject] }));
  return { pepToken, tokens, rawBodies, issuer };
}

/** Sums of every `portcullis_*` sample by metric name (labels folded), for before/after deltas. */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(portcullis_\w+)(\{[^}]*\})? ([\d.e+-]+)$/.exec(line);
    if (!match) continue;
    values.set(match[1]!, (values.get(match[1]!) ?? 0) + Number(match[3]));
  }
  return values;
}
