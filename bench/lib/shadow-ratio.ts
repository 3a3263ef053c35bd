import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devIssuerDirectory } from '@portcullis/pdp';
import { REPOSITORY_ROOT } from '../../test/support/repository-root.ts';
import { scrapeMetrics, startPdpProcess, type PdpProcess } from './pdp-process.ts';
import type { Service } from './processes.ts';
import { medianRun, type WrkResult } from './wrk.ts';

export interface ShadowRatioOptions {
  readonly work: string;
  /** The state folder of the PDP without a shadow: its dev issuer signed the mix's tokens. */
  readonly stateDir: string;
  readonly wasmBundle: string;
  readonly opa: string;
  /** The PDP without a shadow, already warm. */
  readonly plain: PdpProcess;
  readonly rounds: number;
  readonly wrk: (url: string, name: string) => Promise<WrkResult>;
  /** The mix as /v1/decisions bodies, and the PEP's headers: each is asked once before any load. */
  readonly rawBodies: readonly string[];
  readonly headers: Record<string, string>;
  readonly services: Service[];
  readonly say: (message: string) => void;
}

export interface ShadowRatio {
  readonly without: WrkResult;
  readonly with: WrkResult;
  /** with / without, throughput: the target is ≥ 0.9. */
  readonly ratio: number;
  /** What the shadow did during the rounds with it. */
  readonly shadow: { readonly same: number; readonly different: number; readonly failed: number; readonly dropped: number; readonly recorded: number };
}

/**
 * The full /v1/decisions path with a shadow candidate beside the live policy against the same
 * path without one, in the same run: a second PDP (its own state folder, trusting the same dev
 * issuer) runs the starter bundle with, in shadow, the starter pack compiled from its folder
 * without `analytics-db` (so 2 of the 16 requests of the mix differ and are recorded). Rounds
 * alternate between the two, so a machine whose load drifts weighs on both alike.
 */
export async function measureShadowRatio(options: ShadowRatioOptions): Promise<ShadowRatio> {
  const { work, say } = options;
  const candidate = join(work, 'shadow-candidate');
  cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(candidate, 'portcullis'), { recursive: true, filter: (path) => !path.endsWith('_test.rego') });
  const dataFile = join(candidate, 'portcullis/data.json');
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { resources: Record<string, unknown> };
  delete data.resources['analytics-db'];
  writeFileSync(dataFile, JSON.stringify(data));

  const shadowState = join(work, 'state-shadow');
  mkdirSync(shadowState, { recursive: true });
  cpSync(devIssuerDirectory(options.stateDir), devIssuerDirectory(shadowState), { recursive: true });
  say('starting a second PDP with a shadow candidate…');
  const shadowed = await startPdpProcess('pdp-shadow', {
    PORTCULLIS_STATE_DIR: shadowState, PORTCULLIS_BUNDLE_FILE: options.wasmBundle,
    PORTCULLIS_SHADOW_POLICY_DIR: candidate, PORTCULLIS_OPA_PATH: options.opa,
  });
  options.services.push(shadowed);
  const deadline = Date.now() + 120_000;
  while (((await scrapeMetrics(shadowed.url)).get('portcullis_shadow_bundle_active') ?? 0) < 1) {
    if (Date.now() > deadline) throw new Error('the shadow candidate did not load within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const url = (pdp: PdpProcess) => `${pdp.url}/v1/decisions`;
  // One of each request first (the parsers' first use is slow), then a warm-up under load whose
  // stragglers of a cold process may time out: only the measured rounds must be clean.
  for (const body of options.rawBodies) {
    const response = await fetch(url(shadowed), { method: 'POST', body, headers: options.headers });
    if (!response.ok) throw new Error(`the shadowed PDP answered ${response.status}: ${await response.text()}`);
  }
  await options.wrk(url(shadowed), 'warm-shadow').catch(() => undefined);

  const before = await shadowCounts(shadowed.url);
  const without: WrkResult[] = [];
  const withShadow: WrkResult[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    say(`shadow round ${round}/${options.rounds}: full path without a shadow…`);
    without.push(await options.wrk(url(options.plain), 'no-shadow'));
    say(`shadow round ${round}/${options.rounds}: full path with the shadow candidate…`);
    withShadow.push(await options.wrk(url(shadowed), 'shadow'));
  }
  // Differences still queued when the last round ended are evaluated and recorded right after it.
  let after = await shadowCounts(shadowed.url);
  for (let settle = 0; settle < 50 && after.queued > 0; settle += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = await shadowCounts(shadowed.url);
  }
  const shadowFile = join(shadowState, 'audit/shadow.jsonl');
  const recorded = existsSync(shadowFile) ? readFileSync(shadowFile, 'utf8').split('\n').filter(Boolean).length : 0;
  const best = { without: medianRun(without), with: medianRun(withShadow) };
  return {
    ...best,
    ratio: best.with.requestsPerSecond / best.without.requestsPerSecond,
    shadow: {
      same: after.same - before.same,
      different: after.different - before.different,
      failed: after.failed - before.failed,
      dropped: after.dropped - before.dropped,
      recorded,
    },
  };
}

async function shadowCounts(url: string): Promise<{ same: number; different: number; failed: number; dropped: number; queued: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sample = (pattern: RegExp): number => text.split('\n').filter((line) => pattern.test(line)).reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  return {
    same: sample(/^portcullis_shadow_evaluations_total\{result="same"\} /),
    different: sample(/^portcullis_shadow_evaluations_total\{result="different"\} /),
    failed: sample(/^portcullis_shadow_evaluations_total\{result="failed"\} /),
    dropped: sample(/^portcullis_shadow_dropped_total\{/),
    queued: sample(/^portcullis_shadow_queue_depth /),
  };
}
