import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from './command-args.ts';
import type { AuditReader } from '../audit/verification/readers/audit-reader.ts';
import { openAuditReader, type AuditSourceChoice } from '../audit/verification/readers/audit-reader-factory.ts';
import type { PdpConfig } from '../config/pdp-config.ts';
import { CandidateBundleError, loadCandidateBundle } from '../impact/candidate-bundle.ts';
import { analyseImpact, CandidateLoadError, ImpactSourceError, type ImpactQuery } from '../impact/impact-analysis.ts';
import { renderImpactHtml } from '../impact/impact-html.ts';
import { renderImpactMarkdown } from '../impact/impact-markdown.ts';
import type { ImpactReport } from '../impact/impact-report.ts';
import { renderImpactTable } from '../impact/impact-table.ts';
import { headline, verdict } from '../impact/impact-wording.ts';
import { configuredBundleVerifier, type ConfiguredBundleVerifier } from '../policy/configured-bundle-verifier.ts';
import { opaBinary } from '../policy/opa-binary.ts';
import type { CommandOutput } from './token-command.ts';

export const POLICY_USAGE = `usage:
  portcullis policy impact --bundle DIR|FILE [--from ISO] [--to ISO] [--resource NAME] [--principal SUB]
                           [--allow-loosening] [--unsigned-candidate] [--format table|md|html|json] [--out FILE] [source]
  Evaluates the recorded decisions of a period with a candidate policy (a Rego folder, built with
  opa build as the PDP builds one, or a bundle file) and reports every decision that would change.
  When the PDP requires signed bundles (PORTCULLIS_BUNDLE_VERIFICATION_KEY), the candidate must pass
  the same check with the same key; --unsigned-candidate analyses one that does not (the report says so).
source: --kafka HOST:PORT[,…] [--topic-prefix P] | --dir AUDIT_DIR   (default: the PDP's configuration)
exit status: 0 no loosening change; 1 a loosening change (deny→allow, deny→approval_required,
  approval no longer required, a mask removed or weakened to partial, personal data unmasked,
  sessions no longer recorded) unless --allow-loosening; 2 usage; 3 the source or the bundle
  could not be read, the candidate fails the PDP's signature check (without --unsigned-candidate),
  or a decision record of the period could not be evaluated`;

const FORMATS = ['table', 'md', 'html', 'json'] as const;
type ImpactFormat = (typeof FORMATS)[number];

const PROGRESS_INTERVAL_MS = 2000;

/** Exit statuses a policy repository's CI gates on (docs/policy-lifecycle.md). */
const EXIT = { unchanged: 0, loosening: 1, usage: 2, unreadable: 3 } as const;

/** `portcullis policy …`: what a policy change would do, before it serves. */
export async function runPolicyCommand(argv: string[], config: PdpConfig, output: CommandOutput = process): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'impact') return await impact(rest, config, output);
    output.stderr.write(`${sub ? `portcullis policy: unknown command "${sub}"\n` : ''}${POLICY_USAGE}\n`);
    return EXIT.usage;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      output.stderr.write(`portcullis policy: ${(error as Error).message}\n${POLICY_USAGE}\n`);
      return EXIT.usage;
    }
    if (error instanceof CandidateBundleError || error instanceof CandidateLoadError || error instanceof ImpactSourceError) {
      output.stderr.write(`portcullis policy impact: ${error.message}\n`);
      return EXIT.unreadable;
    }
    throw error;
  }
}

async function impact(argv: string[], config: PdpConfig, output: CommandOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      bundle: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      resource: { type: 'string' },
      principal: { type: 'string' },
      'allow-loosening': { type: 'boolean' },
      'unsigned-candidate': { type: 'boolean' },
      format: { type: 'string' },
      out: { type: 'string' },
      kafka: { type: 'string' },
      'topic-prefix': { type: 'string' },
      dir: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.bundle) throw new UsageError('--bundle DIR|FILE is required');
  const format = (values.format ?? 'table') as ImpactFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be ${FORMATS.join(', ')} (got "${values.format}")`);
  const query: ImpactQuery = {
    ...(values.from === undefined ? {} : { from: time(values.from, '--from') }),
    ...(values.to === undefined ? {} : { to: time(values.to, '--to') }),
    ...(values.principal === undefined ? {} : { principal: nonEmpty(values.principal, '--principal') }),
    ...(values.resource === undefined ? {} : { resource: nonEmpty(values.resource, '--resource') }),
  };
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to) throw new UsageError('--from must be before --to');
  if (values.kafka !== undefined && values.dir !== undefined) throw new UsageError('give --kafka or --dir, not both');
  const choice: AuditSourceChoice = {
    ...(values.kafka === undefined ? {} : { kafka: values.kafka }),
    ...(values['topic-prefix'] === undefined ? {} : { topicPrefix: values['topic-prefix'] }),
    ...(values.dir === undefined ? {} : { dir: values.dir }),
  };

  const log = (message: string): void => void output.stderr.write(`${message}\n`);
  const candidate = await loadCandidateBundle({
    path: values.bundle,
    opaPath: () => opaBinary({ ...(config.policy.opaPath ? { configured: config.policy.opaPath } : {}), cacheDir: config.cacheDir, log }),
    signatures: signatureRule(config),
    unsignedCandidate: values['unsigned-candidate'] === true,
  });
  log(`policy impact: candidate revision ${candidate.bundle.revision} (${candidate.description}); signature ${candidate.signature}`);
  const reader = openReadableSource(choice, config);
  let report: ImpactReport;
  try {
    let lastTold = 0;
    const progress = (read: number, evaluated: number): void => {
      // A long run says how far it is every few seconds, not every thousand records.
      if (Date.now() - lastTold < PROGRESS_INTERVAL_MS) return;
      lastTold = Date.now();
      log(`policy impact: ${read} record(s) read, ${evaluated} decision(s) evaluated`);
    };
    report = await analyseImpact({ reader, candidate, query, progress });
    log(`policy impact: ${report.totals.decisions} decision(s) of the period read from ${reader.description}`);
  } finally {
    await reader.close();
  }

  const allowLoosening = values['allow-loosening'] === true;
  const text = render(report, format, allowLoosening);
  if (values.out) {
    writeFileSync(values.out, text);
    log(`report written to ${values.out}\n${headline(report)}\n${verdict(report, allowLoosening)}`);
  } else {
    output.stdout.write(text);
  }
  if (report.totals.skipped > 0) return EXIT.unreadable;
  if (report.totals.loosening > 0 && !allowLoosening) return EXIT.loosening;
  return EXIT.unchanged;
}

function render(report: ImpactReport, format: ImpactFormat, allowLoosening: boolean): string {
  switch (format) {
    case 'table':
      return renderImpactTable(report, allowLoosening);
    case 'md':
      return renderImpactMarkdown(report, allowLoosening);
    case 'html':
      return renderImpactHtml(report, allowLoosening);
    case 'json':
      return `${JSON.stringify({ ...report, verdict: verdict(report, allowLoosening) }, null, 2)}\n`;
  }
}

/** The trail to read; a JSONL folder without a decisions file is a wrong path, not an empty period. */
function openReadableSource(choice: AuditSourceChoice, config: PdpConfig): AuditReader {
  const kafka = choice.kafka ?? (choice.dir === undefined ? config.audit.kafka?.brokers.join(',') : undefined);
  if (!kafka) {
    const directory = resolve(choice.dir ?? config.audit.directory);
    if (!existsSync(join(directory, 'decisions.jsonl'))) throw new ImpactSourceError(`no decisions.jsonl in ${directory}: not an audit folder (give --dir AUDIT_DIR or --kafka)`);
  }
  return openAuditReader(choice, config);
}

/** The PDP's bundle signature rule; a key it cannot use stops the analysis (exit 3), as it stops the PDP. */
function signatureRule(config: PdpConfig): ConfiguredBundleVerifier | undefined {
  try {
    return configuredBundleVerifier(config);
  } catch (error) {
    throw new CandidateBundleError(`the bundle verification key PORTCULLIS_BUNDLE_VERIFICATION_KEY cannot be used: ${(error as Error).message}`);
  }
}

class UsageError extends Error {
  override name = 'UsageError';
}

function time(text: string, flag: string): number {
  const value = Date.parse(text);
  if (Number.isNaN(value)) throw new UsageError(`${flag} must be an ISO date or time (got "${text}")`);
  return value;
}

function nonEmpty(text: string, flag: string): string {
  if (text === '') throw new UsageError(`${flag} must not be empty`);
  return text;
}
