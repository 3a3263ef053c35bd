import type { Request, Response } from 'express';
import type { PdpMetrics } from '../../metrics/pdp-metrics.ts';

/** GET /metrics — Prometheus text exposition. */
export function metricsRoute(metrics: PdpMetrics) {
  return async (_request: Request, response: Response): Promise<void> => {
    response.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}
