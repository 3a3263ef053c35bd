import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express, Router } from 'express';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import type { NativeResponse } from './native-http.ts';
import { countRequest } from './request-counting.ts';

/**
 * The methods the PEP routes serve; any other request goes straight to the app. OPTIONS stays out:
 * a router answers it itself (200 and Allow) where the app answers 405 or 404 like any method the
 * route does not serve.
 */
const LANE_METHODS = new Set(['POST', 'GET', 'HEAD']);

/**
 * The PDP's request listener: the PEP routes (pep-routes.ts) first, on Node's own request and
 * response objects, then the Express app for whatever they do not route. Express gives every
 * request it handles its own prototypes for its helper methods, and measured under `wrk` that
 * alone cost a request about 100 µs of the main thread (`bench/README.md`) — on the routes every
 * PEP calls for every command. A request they do not route goes on to the app, whose routes
 * never overlap theirs, so each request is routed once by whichever serves it.
 */
export function withPepLane(pepRoutes: Router, app: Express, metrics: PdpMetrics): RequestListener {
  return (request: IncomingMessage, response: ServerResponse): void => {
    if (!LANE_METHODS.has(request.method ?? '')) {
      app(request, response);
      return;
    }
    countRequest(metrics, request, response);
    (response as NativeResponse).locals = {};
    // The routes end in their own error handler, so the router only calls this for a request
    // none of them routes.
    pepRoutes(request as Parameters<Router>[0], response as Parameters<Router>[1], () => app(request, response));
  };
}
