import type { RequestListener } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ThreadedAuditTrail } from '../audit/trail/threaded-audit-trail.ts';
import type { DecisionService } from '../decisions/decision-service.ts';
import type { ApprovalBroker } from '../approvals/approval-broker.ts';
import { approvalsRoute } from './routes/approvals-route.ts';
import { consoleRoute } from './routes/console-route.ts';
import { sessionsRoute } from './routes/sessions-route.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';
import { withPepLane } from './pep-lane.ts';
import { pepRoutes } from './routes/pep-routes.ts';
import { countRequest } from './request-counting.ts';
import type { TokenVerifier } from '../identity/token-verifier.ts';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import type { PolicyActivation } from '../policy/policy-activation.ts';
import type { PolicyEngine } from '../policy/policy-engine.ts';
import type { SqlAnalyzer } from '../enrichment/sql-analyzer.ts';
import { errorHandler } from './error-handler.ts';
import { jsonBody } from './json-body.ts';
import { bearerWithRole, eitherAudience, pepAuthentication } from './bearer-authentication.ts';
import type { DecisionSeal } from '../decisions/decision-seal.ts';
import { auditReportRoute } from './routes/audit-report-route.ts';
import type { PdpConfig } from '../config/pdp-config.ts';
import { healthRoute } from './routes/health-route.ts';
import { metricsRoute } from './routes/metrics-route.ts';
import { policyRoute } from './routes/policy-route.ts';
import type { ShadowPolicy } from '../shadow/shadow-policy.ts';
import { impactCommand } from '../shadow/impact-command.ts';

export interface PdpAppDeps {
  readonly decisions: DecisionService;
  /** The SQL analyzer decisions enrich with, for the analysis-only route. */
  readonly sqlAnalyzer: SqlAnalyzer;
  readonly engine: PolicyEngine;
  readonly activation: PolicyActivation;
  /** The candidate evaluated beside the live policy, when configured. */
  readonly shadow?: ShadowPolicy | undefined;
  readonly audit: ThreadedAuditTrail;
  readonly metrics: PdpMetrics;
  readonly approvals: ApprovalBroker;
  /** Agent and PEP tokens (the API audience): console sessions are refused. */
  readonly pepVerifier: TokenVerifier;
  /** Subject tokens (the principal a session event is for): a PEP's own credential is refused there. */
  readonly subjectVerifier: TokenVerifier;
  /** Console sessions (the console audience): agent and PEP tokens are refused. */
  readonly consoleVerifier: TokenVerifier;
  readonly seal: DecisionSeal;
  readonly pepRole: string;
  readonly maxBodyBytes: number;
  readonly dataApiAuth: boolean;
  readonly log: (message: string) => void;
  readonly startedAt: Date;
  readonly config: PdpConfig;
}

/**
 * The HTTP transport: thin routes around the core, one error shape, no business logic. The PEP
 * routes are served in front of Express as well (pep-lane.ts); the listener returned serves both.
 */
export function createPdpApp(deps: PdpAppDeps): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((request: Request, response: Response, next: NextFunction) => {
    countRequest(deps.metrics, request, response);
    next();
  });

  const body = jsonBody(deps.maxBodyBytes);
  const pepAuth = pepAuthentication(deps.pepVerifier, deps.pepRole, deps.metrics, deps.config.identity.pepResourcesClaim);
  const passThrough = (_request: Request, _response: Response, next: NextFunction): void => next();
  const consoleRoles = deps.config.approvals.consoleRoles;
  const consoleAuth = (roles: readonly string[], who: string, options: { anyRole?: boolean } = {}) => bearerWithRole(deps.consoleVerifier, roles, deps.metrics, who, options);
  const { monitorRoles, metricsAuth, healthDetailAuth } = deps.config.http;
  // Monitoring is a service's job (an API token) or an auditor's (a console session): either, by role.
  const monitorAuth = eitherAudience(
    bearerWithRole(deps.pepVerifier, monitorRoles, deps.metrics, 'monitor'),
    consoleAuth(monitorRoles, 'monitor'),
  );
  const monitorAuthIfPresented = (request: Request, response: Response, next: NextFunction): void => {
    if (request.headers.authorization === undefined) next();
    else monitorAuth(request, response, next);
  };

  const pepRouter = pepRoutes({
    decisions: deps.decisions, sqlAnalyzer: deps.sqlAnalyzer, engine: deps.engine, audit: deps.audit, metrics: deps.metrics,
    subjectVerifier: deps.subjectVerifier, seal: deps.seal, pepAuth, jsonBody: body, dataApiAuth: deps.dataApiAuth, log: deps.log,
  });

  app.use('/v1/approvals', approvalsRoute({
    broker: deps.approvals,
    // A PEP waits on approvals for the resources it fronts; console users read any.
    readers: eitherAudience(pepAuth, consoleAuth(consoleRoles, 'approvals')),
    watchers: consoleAuth(consoleRoles, 'approvals'),
    // Every console session may try; the approval's own approver roles decide. Agent and PEP tokens never vote.
    voters: consoleAuth([], 'approvals', { anyRole: true }),
    jsonBody: body,
    maxWaitSeconds: deps.config.approvals.maxWaitSeconds,
    pageSize: deps.config.approvals.pageSize,
    listedActionChars: deps.config.approvals.listedActionChars,
  }));
  app.use('/console', consoleRoute(deps.config));
  app.get('/v1/audit/report', consoleAuth(['auditor', 'approver'], 'auditor'), auditReportRoute(deps.config));
  // Sessions read like the report: what ran, who approved it, and what an interactive session showed.
  app.use('/v1/sessions', consoleAuth(['auditor', 'approver'], 'auditor'), sessionsRoute(deps.config));
  app.get('/health', healthDetailAuth ? monitorAuthIfPresented : passThrough, healthRoute(deps.activation, deps.audit, deps.approvals, deps.startedAt, { detailNeedsCredential: healthDetailAuth }));
  app.get('/metrics', metricsAuth ? monitorAuth : passThrough, metricsRoute(deps.metrics));
  // The console's Policy view (approvers and auditors) and monitoring read the live and shadow policies.
  const shadowSource = deps.config.policy.shadow?.source;
  app.get('/v1/policy', eitherAudience(bearerWithRole(deps.pepVerifier, monitorRoles, deps.metrics, 'monitor'), consoleAuth([...new Set([...consoleRoles, ...monitorRoles])], 'policy')), policyRoute({
    live: () => deps.activation.current,
    ...(deps.shadow ? { shadow: deps.shadow } : {}),
    ...(shadowSource ? { impactCommand: (since: string | null) => impactCommand(shadowSource, since) } : {}),
  }));

  for (const path of ['/v1/decisions', '/v1/sql/outputs']) {
    app.all(path, (_request: Request, response: Response, next: NextFunction) => {
      response.setHeader('Allow', 'POST');
      next(new PortcullisError('method-not-allowed', 'use POST'));
    });
  }
  app.use((_request: Request, _response: Response, next: NextFunction) => next(new PortcullisError('not-found', 'no such route')));
  app.use(errorHandler(deps.log));
  return withPepLane(pepRouter, app, deps.metrics);
}
