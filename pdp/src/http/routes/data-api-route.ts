import { randomUUID } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import type { AuditRecorder } from '../../audit/trail/audit-trail.ts';
import type { PdpMetrics } from '../../metrics/pdp-metrics.ts';
import { PolicyNotLoadedError, UnknownEntrypointError, type PolicyEngine } from '../../policy/policy-engine.ts';
import { PortcullisError } from '../../errors/portcullis-error.ts';
import { assertFronts } from '../resource-authorization.ts';
import { sendJsonAnswer, sendJson, sendJsonText } from '../json-answer.ts';
import type { NativeErrorHandler, NativeRequest, NativeResponse } from '../native-http.ts';
import { requestQueryString } from '../request-target.ts';

/**
 * POST|GET /v1/data/{path} — answers as OPA's Data API does, on the same bundle, so OPA clients
 * keep working: `{"result": …, "decision_id": …}`, no `result` when undefined, OPA's error shape.
 */
export function dataApiRoute(engine: PolicyEngine, audit: AuditRecorder, metrics: PdpMetrics) {
  return async (request: NativeRequest, response: NativeResponse): Promise<void> => {
    const path = dataPath(request);
    const body = request.body as unknown;
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw new PortcullisError('invalid-request', 'body must be a JSON object like {"input": …}');
    }
    const input = (body as { input?: unknown } | undefined)?.input;
    const caller = response.locals.caller;
    const named = namedResource(input);
    // An input about a resource is asked for that resource: only by a PEP that fronts it.
    if (caller !== undefined && named !== undefined) assertFronts(caller, named, 'input.resource');
    const inputJson = input === undefined ? '' : JSON.stringify(input);
    const decisionId = randomUUID();
    let result: unknown;
    let revision: string | undefined;
    let evalMicros = 0;
    try {
      const evaluation = await engine.evaluate(path, inputJson);
      result = evaluation.result;
      revision = evaluation.revision;
      evalMicros = evaluation.evalMicros;
    } catch (error) {
      if (error instanceof UnknownEntrypointError) {
        // OPA answers an undefined document with 200 and no result.
        result = undefined;
        revision = engine.revision;
      } else if (error instanceof PolicyNotLoadedError) {
        throw new PortcullisError('policy-not-loaded', 'no policy bundle is loaded');
      } else {
        metrics.dataQueries.inc({ outcome: 'error' });
        throw new PortcullisError('policy-error', `policy evaluation failed: ${(error as Error).message}`);
      }
    }
    metrics.dataQueries.inc({ outcome: result === undefined ? 'undefined' : 'defined' });
    metrics.evalDuration.observe(evalMicros / 1e6);
    const recorded = audit.record({
      stream: 'decisions',
      key: decisionId,
      body: {
        event: 'data-query', schema_version: 1, decision_id: decisionId, time: new Date().toISOString(),
        path, input: input ?? null, result: result ?? null, pep: response.locals.caller ? { sub: response.locals.caller.sub } : null,
        policy_revision: revision ?? null,
      },
    });
    // Same rule as decisions: no durable record (sync durability), no answer.
    if (!recorded || !(await audit.durable().then(() => true, () => false))) {
      metrics.auditRejected.inc();
      throw new PortcullisError('audit-unavailable', 'the audit trail cannot record this query');
    }
    const answer: Record<string, unknown> = { decision_id: decisionId };
    if (result !== undefined) answer.result = result;
    const query = queryOf(request);
    if (flag(query.metrics)) answer.metrics = { timer_rego_query_eval_ns: Math.round(evalMicros * 1000) };
    if (flag(query.provenance)) answer.provenance = { version: 'portcullis', revision: revision ?? '', bundles: { portcullis: { revision: revision ?? '' } } };
    if (flag(query.pretty)) {
      sendJsonText(response, 200, `${JSON.stringify(answer, null, 2)}\n`);
      return;
    }
    sendJsonAnswer(response, answer);
  };
}

/** OPA's error body for the Data API: `{code, message}` with OPA's code names. */
export function dataApiErrorHandler(): NativeErrorHandler {
  return (error, _request, response, next) => {
    if (!(error instanceof PortcullisError) || response.headersSent) {
      next(error);
      return;
    }
    const opaCode: Record<string, string> = {
      'malformed-json': 'invalid_parameter', 'invalid-request': 'invalid_parameter', 'payload-too-large': 'invalid_parameter',
      'unsupported-media-type': 'invalid_parameter', 'unauthenticated': 'unauthorized', 'forbidden': 'unauthorized',
      'policy-not-loaded': 'internal_error', 'policy-error': 'internal_error',
    };
    sendJson(response, error.httpStatus, { code: opaCode[error.code] ?? 'internal_error', message: error.message });
  };
}

function namedResource(input: unknown): { type: string; name: string } | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const resource = (input as { resource?: unknown }).resource;
  if (typeof resource !== 'object' || resource === null) return undefined;
  const { type, name } = resource as { type?: unknown; name?: unknown };
  if (name === undefined) return undefined;
  // A name that is not a string cannot be matched against the binding: refused like any unfronted one.
  return { type: typeof type === 'string' ? type : '', name: typeof name === 'string' ? name : JSON.stringify(name) };
}

function dataPath(request: NativeRequest): string {
  const raw = request.params?.path;
  const segments = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split('/') : [];
  return segments.filter((segment) => segment !== '').join('/');
}

/** The query as Express's simple parser reads it (node:querystring on the router's query string). */
function queryOf(request: NativeRequest): Record<string, string | string[] | undefined> {
  const query = requestQueryString(request);
  return query === '' ? {} : parseQuery(query);
}

function flag(value: unknown): boolean {
  return value === '' || value === 'true' || value === '1';
}
