import { writeFileSync } from 'node:fs';
import { parseArgs } from './command-args.ts';
import { AuditKeysMissingError, verifyWith, type VerifyOptions } from '../audit/verification/audit-evidence.ts';
import type { VerificationReport } from '../audit/verification/audit-verifier.ts';
import type { ReportFormat } from '../audit/verification/evidence-report.ts';
import { openAuditReader } from '../audit/verification/readers/audit-reader-factory.ts';
import type { PdpConfig } from '../config/pdp-config.ts';
import { parseTtlSeconds } from '../identity/ttl.ts';
import type { CommandOutput } from './token-command.ts';
import { AUDIT_REPLAY_USAGE, runAuditReplay } from './audit-replay-command.ts';
import { auditReport } from '../replay/audit-report.ts';
import { auditBodyOf } from '../audit/ocsf/portcullis-body.ts';

export const AUDIT_USAGE = `usage:
  portcullis audit verify [source] [keys] [--as-of ISO] [--json]
  portcullis audit tail   [source] [--stream decisions|sessions|approvals|shadow] [--principal SUB] [--resource NAME]
                          [--effect allow|deny|approval_required] [--since 1h] [--from ISO] [--to ISO] [--json]
  portcullis audit report [source] [keys] --from ISO --to ISO [--format html|md|json] [--out FILE]
                          [--bundles DIR]   (its "decisions re-verified" line: as audit replay)
${AUDIT_REPLAY_USAGE}
source: --kafka HOST:PORT[,…] [--topic-prefix P] | --dir AUDIT_DIR   (default: the PDP's configuration)
keys:   --jwks FILE and/or --key-thumbprint T[,T…] (RFC 7638), given out of band   (default:
        PORTCULLIS_AUDIT_TRUSTED_JWKS_FILE / PORTCULLIS_AUDIT_TRUSTED_KEY_THUMBPRINT, else the
        JWKS in the state folder, with a warning)`;

const SOURCE_OPTIONS = {
  kafka: { type: 'string' },
  'topic-prefix': { type: 'string' },
  dir: { type: 'string' },
  jwks: { type: 'string' },
  'key-thumbprint': { type: 'string' },
  'as-of': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** `portcullis audit …`: prove, read and present the audit trail. */
export async function runAuditCommand(argv: string[], config: PdpConfig, output: CommandOutput = process): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'verify':
        return await verify(rest, config, output);
      case 'tail':
        return await tail(rest, config, output);
      case 'report':
        return await report(rest, config, output);
      case 'replay':
        return await runAuditReplay(rest, config, output);
      default:
        output.stderr.write(`${sub ? `portcullis audit: unknown command "${sub}"\n` : ''}${AUDIT_USAGE}\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof AuditKeysMissingError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      output.stderr.write(`portcullis audit: ${(error as Error).message}\n${AUDIT_USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

async function verify(argv: string[], config: PdpConfig, output: CommandOutput): Promise<number> {
  const { values } = parseArgs({ args: argv, options: SOURCE_OPTIONS, strict: true });
  const reader = openAuditReader({ ...optional('kafka', values.kafka), ...optional('topicPrefix', values['topic-prefix']), ...optional('dir', values.dir) }, config);
  let result: VerificationReport;
  try {
    result = await verifyWith(reader, verifyOptions(values), config);
  } finally {
    await reader.close();
  }
  if (values.json) output.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else output.stdout.write(describeVerification(result, reader.description));
  if (result.trust?.warning) output.stderr.write(`${result.trust.warning}\n`);
  return result.ok ? 0 : 1;
}

async function tail(argv: string[], config: PdpConfig, output: CommandOutput): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...SOURCE_OPTIONS, stream: { type: 'string' }, principal: { type: 'string' }, resource: { type: 'string' }, effect: { type: 'string' }, since: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
    strict: true,
  });
  const stream = values.stream ?? 'decisions';
  if (!['decisions', 'sessions', 'approvals', 'shadow'].includes(stream)) throw usage(`--stream must be decisions, sessions, approvals or shadow`);
  const from = values.since ? Date.now() - parseTtlSeconds(values.since) * 1000 : values.from ? time(values.from, '--from') : -Infinity;
  const to = values.to ? time(values.to, '--to') : Infinity;
  const reader = openAuditReader({ ...optional('kafka', values.kafka), ...optional('topicPrefix', values['topic-prefix']), ...optional('dir', values.dir) }, config);
  let shown = 0;
  try {
    for await (const { record } of reader.read(stream as 'decisions')) {
      const event = record as { time?: number; message?: string };
      const fields = auditBodyOf(record) ?? {};
      const principal = fields.principal as { sub?: string; kind?: string } | undefined;
      const resource = fields.resource as { name?: string } | undefined;
      if (typeof event.time !== 'number' || event.time < from || event.time >= to) continue;
      if (values.principal && principal?.sub !== values.principal) continue;
      if (values.resource && resource?.name !== values.resource) continue;
      if (values.effect && fields.effect !== values.effect) continue;
      shown += 1;
      output.stdout.write(values.json ? `${JSON.stringify(record)}\n` : `${new Date(event.time).toISOString()}  ${event.message ?? JSON.stringify(fields).slice(0, 200)}\n`);
    }
  } finally {
    await reader.close();
  }
  if (!values.json) output.stderr.write(`${shown} ${stream} event(s) from ${reader.description}\n`);
  return 0;
}

async function report(argv: string[], config: PdpConfig, output: CommandOutput): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...SOURCE_OPTIONS, from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, bundles: { type: 'string' } }, strict: true });
  const format = (values.format ?? 'md') as ReportFormat;
  if (!['html', 'md', 'json'].includes(format)) throw usage('--format must be html, md or json');
  const choice = { ...optional('kafka', values.kafka), ...optional('topicPrefix', values['topic-prefix']), ...optional('dir', values.dir) };
  // The PDP's GET /v1/audit/report serves the same function: the two reports cannot drift.
  const text = await auditReport(choice, config, {
    ...(values.from ? { from: time(values.from, '--from') } : {}),
    ...(values.to ? { to: time(values.to, '--to') } : {}),
    format,
    ...verifyOptions(values),
    ...optional('bundlesDir', values.bundles),
  });
  if (values.out) {
    writeFileSync(values.out, text);
    output.stderr.write(`report written to ${values.out}\n`);
  } else {
    output.stdout.write(text);
  }
  return 0;
}

/** The keys and clock a verification uses, from `--jwks`, `--key-thumbprint` and `--as-of`. */
function verifyOptions(values: { jwks?: string | undefined; 'key-thumbprint'?: string | undefined; 'as-of'?: string | undefined }): VerifyOptions {
  const thumbprints = values['key-thumbprint']?.split(',').map((item) => item.trim()).filter(Boolean) ?? [];
  const bad = thumbprints.find((item) => !/^[A-Za-z0-9_-]{43}$/.test(item));
  if (bad !== undefined) throw usage(`--key-thumbprint must be RFC 7638 SHA-256 thumbprints (base64url, 43 characters), got "${bad}"`);
  return {
    ...optional('jwks', values.jwks),
    ...(thumbprints.length > 0 ? { thumbprints } : {}),
    ...(values['as-of'] ? { now: new Date(time(values['as-of'], '--as-of')) } : {}),
  };
}

function describeVerification(result: VerificationReport, source: string): string {
  const trust = result.trust;
  const lines = [
    `audit verify: ${result.ok ? 'PASS' : 'FAIL'} — ${source}`,
    `  records ${result.counts.records} from ${result.counts.producers} producer(s) in ${result.counts.streams} stream(s); ` +
      `digests ${result.counts.digests} (${result.counts.digests_verified} signatures verified), checkpoints ${result.counts.checkpoints_verified}; records attested ${result.counts.records_attested}`,
  ];
  if (trust) lines.push(`  keys trusted: ${trust.thumbprints.join(', ') || 'none'} — ${TRUST_SOURCES[trust.source]} ${trust.path}`);
  for (const producer of result.producers) {
    lines.push(`  producer ${producer.producer_id}: ${producer.state}${producer.started_at ? `, started ${producer.started_at}` : ''}${producer.stopped_at ? `, stopped ${producer.stopped_at}` : ''}${producer.durability ? `, durability ${producer.durability}` : ''}${producer.signing_keys.length > 0 ? `, signed by ${producer.signing_keys.join(', ')}` : ''}`);
  }
  for (const problem of result.problems) lines.push(`  ✗ ${problem.kind}: ${problem.message}`);
  for (const note of result.notes) lines.push(`  · ${note}`);
  return `${lines.join('\n')}\n`;
}

const TRUST_SOURCES: Record<NonNullable<VerificationReport['trust']>['source'], string> = {
  'jwks-file': 'pinned: the JWKS file',
  'thumbprint-pin': 'pinned by thumbprint, from',
  'audit-folder': 'NOT pinned: the JWKS beside the records,',
};

function time(text: string, flag: string): number {
  const value = Date.parse(text);
  if (Number.isNaN(value)) throw usage(`${flag} must be an ISO date or time (got "${text}")`);
  return value;
}

function usage(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_USAGE' });
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
