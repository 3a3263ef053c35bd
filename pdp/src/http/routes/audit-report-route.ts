import type { Request, Response } from 'express';
import type { ReportFormat } from '../../audit/verification/evidence-report.ts';
import type { PdpConfig } from '../../config/pdp-config.ts';
import { PortcullisError } from '../../errors/portcullis-error.ts';
import { auditReport } from '../../replay/audit-report.ts';

const CONTENT_TYPES: Record<ReportFormat, string> = { html: 'text/html; charset=utf-8', md: 'text/markdown; charset=utf-8', json: 'application/json' };

/**
 * GET /v1/audit/report?from&to&format — the NIST SP 800-53 evidence report over the PDP's own
 * audit store, verified and its decisions replayed: `portcullis audit report`'s own function
 * (replay/audit-report.ts), one click from a console.
 */
export function auditReportRoute(config: PdpConfig) {
  return async (request: Request, response: Response): Promise<void> => {
    const format = (typeof request.query.format === 'string' ? request.query.format : 'html') as ReportFormat;
    if (!(format in CONTENT_TYPES)) throw new PortcullisError('invalid-request', 'format must be html, md or json', { field: 'format' });
    const from = time(request.query.from, 'from');
    const to = time(request.query.to, 'to');
    const text = await auditReport({}, config, { format, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    response.type(CONTENT_TYPES[format]).setHeader('Cache-Control', 'no-store');
    response.send(text);
  };
}

function time(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) throw new PortcullisError('invalid-request', `${field} must be an ISO date or time`, { field });
  return parsed;
}
