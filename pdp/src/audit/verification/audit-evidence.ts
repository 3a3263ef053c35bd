import { join } from 'node:path';
import type { PdpConfig } from '../../config/pdp-config.ts';
import { resolveTrustedKeys } from './audit-key-trust.ts';
import { verifyAudit, type VerificationReport } from './audit-verifier.ts';
import { auditSigningDirectory } from '../trail/digest-signer.ts';
import { buildEvidenceReport, renderReport, type ControlLine, type ReportFormat } from './evidence-report.ts';
import { openAuditReader, readEventStreams, type AuditSourceChoice } from './readers/audit-reader-factory.ts';
import type { AuditReader } from './readers/audit-reader.ts';

export { AuditKeysMissingError } from './audit-key-trust.ts';

/** How a verification picks its keys and its clock, beyond the PDP's configuration. */
export interface VerifyOptions {
  readonly jwks?: string;
  readonly thumbprints?: readonly string[];
  readonly now?: Date;
}

/** Lines another check (e.g. replay) computes from the same store, for the controls it supports. */
export type ControlLinesSource = (reader: AuditReader) => Promise<readonly ControlLine[]>;

/**
 * Verifies, then reports over the same store, with the lines other checks add (replay's): the CLI
 * and the PDP's report route both reach it through replay/audit-report.ts.
 */
export async function evidenceReport(
  choice: AuditSourceChoice,
  config: PdpConfig,
  options: { from?: number; to?: number; format: ReportFormat; controlLines: ControlLinesSource } & VerifyOptions,
): Promise<string> {
  const reader = openAuditReader(choice, config);
  try {
    const verification = await verifyWith(reader, options, config);
    const controlLines = await options.controlLines(reader);
    const built = await buildEvidenceReport({
      records: readEventStreams(reader),
      verification,
      controlLines,
      retention: await reader.retention(),
      ...(options.from !== undefined ? { from: new Date(options.from) } : {}),
      ...(options.to !== undefined ? { to: new Date(options.to) } : {}),
    });
    return renderReport(built, options.format);
  } finally {
    await reader.close();
  }
}

/** Verifies what `reader` holds with the keys the options, else the configuration, say to trust. */
export async function verifyWith(reader: AuditReader, options: VerifyOptions, config: PdpConfig): Promise<VerificationReport> {
  const jwksFile = options.jwks ?? config.audit.trustedJwksFile;
  const thumbprints = options.thumbprints && options.thumbprints.length > 0 ? options.thumbprints : config.audit.trustedKeyThumbprints;
  const { jwks, trust, problems } = await resolveTrustedKeys({
    ...(jwksFile ? { jwksFile } : {}),
    thumbprints,
    folderJwksFile: join(auditSigningDirectory(config.stateDir), 'jwks.json'),
  });
  const retention = Object.fromEntries(Object.entries(await reader.retention()).map(([stream, setting]) => [stream, setting.retention_ms]));
  return verifyAudit({ records: readEventStreams(reader), digests: reader.read('digests'), jwks, trust, problems, retention, ...(options.now ? { now: options.now } : {}) });
}
