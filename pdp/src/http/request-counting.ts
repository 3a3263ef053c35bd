import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import { requestPathname } from './request-target.ts';

const COUNTED = Symbol('portcullis.http-request-counted');

/**
 * Counts each request once, by route and status, when its answer is finished — whichever of the
 * PEP lane and the Express app serves it (the lane counts first; the app skips what it counted).
 */
export function countRequest(metrics: PdpMetrics, request: IncomingMessage, response: ServerResponse): void {
  const marked = request as IncomingMessage & { [COUNTED]?: true };
  if (marked[COUNTED]) return;
  marked[COUNTED] = true;
  response.on('finish', () => metrics.httpRequests.inc({ route: routeLabel(requestPathname(request)), status: String(response.statusCode) }));
}

const EXACT_ROUTES = new Set(['/v1/decisions', '/v1/sql/outputs', '/v1/sessions/events', '/v1/audit/report', '/v1/policy', '/health', '/metrics']);

/** A bounded label: the route's pattern, never the raw path (which a caller chooses). */
function routeLabel(path: string): string {
  if (path.startsWith('/v1/data')) return '/v1/data';
  if (path.startsWith('/v1/approvals')) return '/v1/approvals';
  if (path.startsWith('/console')) return '/console';
  if (EXACT_ROUTES.has(path)) return path;
  return 'other';
}
