import type { Request, Response } from 'express';
import type { AuditSinkHealth } from '../../audit/trail/audit-sink.ts';
import type { PolicyActivation } from '../../policy/policy-activation.ts';

export interface HealthRouteOptions {
  /** Without a verified monitor (PORTCULLIS_HEALTH_DETAIL_AUTH), only ready or not: the detail names sinks, bundles and errors. */
  readonly detailNeedsCredential: boolean;
}

/** GET /health — ready when a policy answers; degraded when the last bundle update failed. */
export function healthRoute(
  activation: PolicyActivation,
  audit: { health(): AuditSinkHealth },
  approvals: { health(): Promise<{ ok: boolean; detail: string }> },
  startedAt: Date,
  options: HealthRouteOptions = { detailNeedsCredential: false },
) {
  return async (_request: Request, response: Response): Promise<void> => {
    const bundle = activation.current;
    const ready = bundle.revision !== null;
    if (options.detailNeedsCredential && response.locals.principal === undefined) {
      response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', ready });
      return;
    }
    const auditHealth = audit.health();
    const approvalHealth = await approvals.health();
    // Approvals away only turns approval_required into deny: degraded, still ready.
    const degraded = bundle.lastError !== null || auditHealth.status !== 'ok' || !approvalHealth.ok;
    response.status(ready ? 200 : 503).json({
      status: !ready ? 'unavailable' : degraded ? 'degraded' : 'ok',
      ready,
      policy_revision: bundle.revision,
      bundle,
      audit: auditHealth,
      approvals: { status: approvalHealth.ok ? 'ok' : 'unavailable', detail: approvalHealth.detail },
      started_at: startedAt.toISOString(),
    });
  };
}
