import { readFileSync } from 'node:fs';
import { parseArgs } from './command-args.ts';
import { openAuditReader, type AuditSourceChoice } from '../audit/verification/readers/audit-reader-factory.ts';
import type { PdpConfig } from '../config/pdp-config.ts';
import { createBundleVerifier, type BundleVerifier } from '../policy/bundle-signature-verifier.ts';
import { bundleArchiveFor } from '../replay/bundle-archive-of-source.ts';
import { replayTrail, type ReplayFinding, type TrailReplayReport } from '../replay/trail-replay.ts';
import type { CommandOutput } from './token-command.ts';

export const AUDIT_REPLAY_USAGE = `  portcullis audit replay [source] [--bundles DIR] [--bundle-key PEM] [--from ISO] [--to ISO] [--json]
                          evaluates every recorded decision again with the archived bundle of its
                          revision, taken only when its bytes are those the revision's
                          bundle.activated record attests; exit 0 none differs, 1 any differs,
                          is unattested or cannot be replayed (each named), 2 usage; a decision
                          whose record withholds input policy saw (credentials) is named and not
                          counted as re-verified; bundles: --bundles DIR, else the topic
                          <prefix>.bundles.v1 with Kafka, else <state>/bundles; signed bundles
                          are checked again with --bundle-key (default
                          PORTCULLIS_BUNDLE_VERIFICATION_KEY)`;

const PROGRESS_EVERY_MS = 2000;

/** `portcullis audit replay`: are the recorded effects what the policy of their revision says? */
export async function runAuditReplay(argv: string[], config: PdpConfig, output: CommandOutput): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { kafka: { type: 'string' }, 'topic-prefix': { type: 'string' }, dir: { type: 'string' }, bundles: { type: 'string' }, 'bundle-key': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const from = values.from === undefined ? undefined : time(values.from, '--from');
  const to = values.to === undefined ? undefined : time(values.to, '--to');
  const choice: AuditSourceChoice = { ...optional('kafka', values.kafka), ...optional('topicPrefix', values['topic-prefix']), ...optional('dir', values.dir) };
  const verifier = bundleVerifierFor(values['bundle-key'] ?? config.policy.verificationKeyFile);
  const reader = openAuditReader(choice, config);
  const bundles = bundleArchiveFor(choice, values.bundles, config);
  let lastProgress = Date.now();
  let report: TrailReplayReport;
  try {
    report = await replayTrail(reader, bundles, {
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      ...(verifier ? { verifier } : {}),
      onProgress: (replayed) => {
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = Date.now();
        output.stderr.write(`audit replay: ${replayed} decisions replayed…\n`);
      },
    });
  } finally {
    await reader.close();
    await bundles.close();
  }
  if (values.json) output.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else output.stdout.write(describe(report, reader.description, bundles.description));
  return report.ok ? 0 : 1;
}

/** The bundle verification key replay checks signed bundles with; a key that cannot be read is a usage error. */
export function bundleVerifierFor(keyFile: string | undefined): BundleVerifier | undefined {
  if (!keyFile) return undefined;
  try {
    return createBundleVerifier({ publicKeyPem: readFileSync(keyFile, 'utf8') });
  } catch (error) {
    throw Object.assign(new Error(`--bundle-key ${keyFile}: ${(error as Error).message}`), { code: 'ERR_PARSE_ARGS_USAGE' });
  }
}

function describe(report: TrailReplayReport, source: string, bundles: string): string {
  const lines = [
    `audit replay: ${report.ok ? 'PASS' : 'FAIL'} — ${source}, ${bundles}`,
    `  decisions re-verified: ${report.reverified} of ${report.decisions}`,
    ...Object.entries(report.revisions).map(([revision, digest]) => `  revision ${revision}${digest ? ` (${digest}, as its activation record attests)` : ''}`),
    ...Object.entries(report.unattested).map(([revision, why]) => `  revision ${revision} unattested: ${why}`),
    ...report.findings.map(describeFinding),
    ...report.withheld_input.map((note) => `  · decision ${note.decision_id} (${note.where}, revision ${note.revision ?? 'none'}): gave the recorded outcome without ${note.withheld.join(', ')}, which the record withholds as credentials: not counted as re-verified`),
  ];
  return `${lines.join('\n')}\n`;
}

function describeFinding(finding: ReplayFinding): string {
  const head = `  ✗ decision ${finding.decision_id} (${finding.where}, revision ${finding.revision ?? 'none'})`;
  if (finding.unattested) return `${head}: unattested: ${finding.unattested}`;
  if (finding.unreplayable) return `${head}: cannot be replayed: ${finding.unreplayable}`;
  const members = finding.differences.map((difference) => `${difference.member} recorded ${JSON.stringify(difference.recorded)}, replayed ${JSON.stringify(difference.replayed)}`);
  const withheld = finding.withheld ? ` (the input's ${finding.withheld.join(', ')} were withheld from the record as credentials)` : '';
  return `${head}: ${members.join('; ')}${withheld}`;
}

function time(text: string, flag: string): number {
  const value = Date.parse(text);
  if (Number.isNaN(value)) throw Object.assign(new Error(`${flag} must be an ISO date or time (got "${text}")`), { code: 'ERR_PARSE_ARGS_USAGE' });
  return value;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
