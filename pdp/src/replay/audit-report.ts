import { evidenceReport, type VerifyOptions } from '../audit/verification/audit-evidence.ts';
import type { ControlLine, ReportFormat } from '../audit/verification/evidence-report.ts';
import type { AuditSourceChoice } from '../audit/verification/readers/audit-reader-factory.ts';
import type { AuditReader } from '../audit/verification/readers/audit-reader.ts';
import type { PdpConfig } from '../config/pdp-config.ts';
import { bundleArchiveFor } from './bundle-archive-of-source.ts';
import { replayControlLine, replayTrail } from './trail-replay.ts';

export interface AuditReportOptions extends VerifyOptions {
  readonly format: ReportFormat;
  /** Only records with from <= time < to (epoch ms) are counted and replayed. */
  readonly from?: number;
  readonly to?: number;
  /** The archived bundles to replay with; default: the store beside the records (bundleArchiveFor). */
  readonly bundlesDir?: string;
}

/**
 * The evidence report as `portcullis audit report` prints it and `GET /v1/audit/report` serves
 * it: one implementation, so the two cannot drift. The trail is verified, the period's decisions
 * are replayed with the bundles of their revisions (the "decisions re-verified" line under AC-3
 * and AU-10), and the report is rendered.
 */
export function auditReport(choice: AuditSourceChoice, config: PdpConfig, options: AuditReportOptions): Promise<string> {
  const { bundlesDir, ...rest } = options;
  return evidenceReport(choice, config, {
    ...rest,
    controlLines: (reader) => replayedLines(reader, choice, bundlesDir, config, options),
  });
}

async function replayedLines(reader: AuditReader, choice: AuditSourceChoice, bundlesDir: string | undefined, config: PdpConfig, period: { from?: number; to?: number }): Promise<ControlLine[]> {
  const bundles = bundleArchiveFor(choice, bundlesDir, config);
  try {
    const range = { ...(period.from === undefined ? {} : { from: period.from }), ...(period.to === undefined ? {} : { to: period.to }) };
    return [replayControlLine(await replayTrail(reader, bundles, range))];
  } finally {
    await bundles.close();
  }
}
