import type { Request, Response } from 'express';
import type { AuditSinkHealth } from '../../audit/audit-sink.ts';
import type { PolicyActivation } from '../../policy/policy-activation.ts';

/** GET /health — ready when a policy answers; degraded when the last bundle update failed. */
export function healthRoute(activation: PolicyActivation, audit: { health(): AuditSinkHealth }, startedAt: Date) {
  return (_request: Request, response: Response): void => {
    const bundle = activation.current;
    const auditHealth = audit.health();
    const ready = bundle.revision !== null;
    const degraded = bundle.lastError !== null || auditHealth.status !== 'ok';
    response.status(ready ? 200 : 503).json({
      status: !ready ? 'unavailable' : degraded ? 'degraded' : 'ok',
      ready,
      policy_revision: bundle.revision,
      bundle,
      audit: auditHealth,
      started_at: startedAt.toISOString(),
    });
  };
}
