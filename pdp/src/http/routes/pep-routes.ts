import { Router } from 'express';
import type { DecisionService } from '../../decisions/decision-service.ts';
import type { SqlAnalyzer } from '../../enrichment/sql-analyzer.ts';
import type { AuditRecorder } from '../../audit/trail/audit-trail.ts';
import type { DecisionSeal } from '../../decisions/decision-seal.ts';
import { PortcullisError } from '../../errors/portcullis-error.ts';
import type { TokenVerifier } from '../../identity/token-verifier.ts';
import type { PdpMetrics } from '../../metrics/pdp-metrics.ts';
import type { PolicyEngine } from '../../policy/policy-engine.ts';
import { errorHandler } from '../error-handler.ts';
import type { NativeHandler } from '../native-http.ts';
import { dataApiErrorHandler, dataApiRoute } from './data-api-route.ts';
import { decisionsRoute } from './decisions-route.ts';
import { sessionEventsRoute } from './session-events-route.ts';
import { sqlOutputsRoute } from './sql-outputs-route.ts';

export interface PepRoutesDeps {
  readonly decisions: DecisionService;
  readonly sqlAnalyzer: SqlAnalyzer;
  readonly engine: PolicyEngine;
  readonly audit: AuditRecorder;
  readonly metrics: PdpMetrics;
  readonly subjectVerifier: TokenVerifier;
  readonly seal: DecisionSeal;
  /** PEP bearer authentication (pep role, resource binding). */
  readonly pepAuth: NativeHandler;
  readonly jsonBody: NativeHandler;
  /** Whether the OPA-compatible Data API asks for a PEP token too. */
  readonly dataApiAuth: boolean;
  readonly log: (message: string) => void;
}

/**
 * The routes PEPs call for every command — decisions, session events, SQL outputs and the
 * OPA-compatible Data API — with their own error handler. Every handler here uses Node's
 * request and response alone (native-http.ts): the router runs in the PEP lane (pep-lane.ts), in
 * front of the Express app.
 */
export function pepRoutes(deps: PepRoutesDeps): Router {
  const routes = Router();
  const { pepAuth, jsonBody: body } = deps;
  const passThrough: NativeHandler = (_request, _response, next) => next();

  routes.post('/v1/decisions', pepAuth, body, decisionsRoute(deps.decisions));
  routes.post('/v1/sql/outputs', pepAuth, body, sqlOutputsRoute(deps.sqlAnalyzer));
  routes.post('/v1/sessions/events', pepAuth, body, sessionEventsRoute(deps.subjectVerifier, deps.seal, deps.audit, deps.metrics, deps.log));

  const dataRoute = dataApiRoute(deps.engine, deps.audit, deps.metrics);
  const dataAuth = deps.dataApiAuth ? pepAuth : passThrough;
  routes.post('/v1/data/*path', dataAuth, body, dataRoute, dataApiErrorHandler());
  routes.get('/v1/data/*path', dataAuth, dataRoute, dataApiErrorHandler());
  const nameARule: NativeHandler = (_request, _response, next) => next(new PortcullisError('invalid-request', 'name a rule: /v1/data/{package}/{rule}'));
  routes.post('/v1/data', dataAuth, body, nameARule, dataApiErrorHandler());

  routes.use(errorHandler(deps.log));
  return routes;
}
