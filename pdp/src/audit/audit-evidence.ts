import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import type { PdpConfig } from '../config/pdp-config.ts';
import { verifyAudit, type VerificationReport } from './audit-verifier.ts';
import { auditSigningDirectory } from './digest-signer.ts';
import { buildEvidenceReport, renderReport, type ReportFormat } from './evidence-report.ts';
import { openAuditReader, readEventStreams, type AuditSourceChoice } from './readers/audit-reader-factory.ts';
import type { AuditReader } from './readers/audit-reader.ts';

/** The public keys that verify digests are missing or unreadable. */
export class AuditKeysMissingError extends Error {
  override readonly name = 'AuditKeysMissingError';
}

/** Verifies, then reports over the same store: what the CLI and the PDP's report route serve. */
export async function evidenceReport(
  choice: AuditSourceChoice,
  config: PdpConfig,
  options: { from?: number; to?: number; format: ReportFormat; jwks?: string },
): Promise<string> {
  const reader = openAuditReader(choice, config);
  try {
    const verification = await verifyWith(reader, options.jwks, config);
    const built = await buildEvidenceReport({
      records: readEventStreams(reader),
      verification,
      ...(options.from !== undefined ? { from: new Date(options.from) } : {}),
      ...(options.to !== undefined ? { to: new Date(options.to) } : {}),
    });
    return renderReport(built, options.format);
  } finally {
    await reader.close();
  }
}

export async function verifyWith(reader: AuditReader, jwksFile: string | undefined, config: PdpConfig): Promise<VerificationReport> {
  const path = jwksFile ?? join(auditSigningDirectory(config.stateDir), 'jwks.json');
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet;
  } catch (error) {
    throw new AuditKeysMissingError(`cannot read the audit signing public keys at ${path} (${(error as Error).message}); pass --jwks`);
  }
  return verifyAudit({ records: readEventStreams(reader), digests: reader.read('digests'), jwks });
}

