import type { TSchema } from '@sinclair/typebox';
import { ApprovalAnswerV1, ApprovalHistoryV1, ApprovalIdV1, ApprovalQueuePageV1, ApprovalVoteRequestV1 } from '../approvals/approval-v1.ts';
import { CONSOLE_SUBPROTOCOL, ConsoleClientMessageV1, ConsoleServerMessageV1 } from '../approvals/console-protocol-v1.ts';
import { AuditRecordV1 } from '../audit/audit-record-v1.ts';
import { DataErrorV1, DataRequestV1, DataResponseV1 } from '../decisions/data-api-v1.ts';
import { DecisionRequestV1 } from '../decisions/decision-request-v1.ts';
import { DecisionResponseV1 } from '../decisions/decision-response-v1.ts';
import { ErrorV1 } from '../decisions/error-v1.ts';
import { SqlOutputsRequestV1, SqlOutputsResponseV1 } from '../decisions/sql-outputs-v1.ts';
import { SessionEventBatchV1, SessionEventsAcceptedV1, SessionEventV1 } from '../sessions/session-event-v1.ts';
import { jsonSchemaOf, type ComponentRegistry } from './json-schema-of.ts';

/**
 * The OpenAPI 3.1 document of the PDP's HTTP API that PEPs and clients use, built from the
 * contract's schemas (docs/openapi.json is this, written by `npm run -w @portcullis/contract
 * openapi`). The WebSocket protocol and the audit record are not HTTP operations: their
 * schemas are components, and `x-portcullis-websocket` names the socket's messages.
 */
export function openApiDocument(version: string): Record<string, unknown> {
  const registry: ComponentRegistry = { schemas: new Map() };
  const ref = (schema: TSchema) => jsonSchemaOf(schema, registry);
  const json = (schema: TSchema, description: string) => ({ description, content: { 'application/json': { schema: ref(schema) } } });
  const errors = (...statuses: [number, string][]) => Object.fromEntries(statuses.map(([status, description]) => [String(status), json(ErrorV1, description)]));
  const body = (schema: TSchema) => ({ required: true, content: { 'application/json': { schema: ref(schema) } } });
  const query = (name: string, description: string, schema: unknown) => ({ name, in: 'query', required: false, description, schema });
  const approvalId = { name: 'id', in: 'path', required: true, schema: ref(ApprovalIdV1) };
  const pep = [{ pepToken: [] }];
  const anyPrincipal = [{ bearer: [] }];

  const paths = {
    '/v1/decisions': {
      post: {
        operationId: 'decide',
        summary: 'Decide one action of a principal on a resource (the PEP → PDP contract)',
        description: 'A deny is an answer (200), not an error. The PEP credential (role pep) must front the resource, else 403.',
        security: pep,
        requestBody: body(DecisionRequestV1),
        responses: {
          '200': json(DecisionResponseV1, 'The decision'),
          ...errors([400, 'invalid-request (naming the field) or malformed-json'], [401, 'unauthenticated: the PEP credential'], [403, 'forbidden: a resource the PEP does not front'], [413, 'payload-too-large'], [415, 'unsupported-media-type'], [503, 'policy-not-loaded, audit-unavailable']),
        },
      },
    },
    '/v1/sessions/events': {
      post: {
        operationId: 'postSessionEvents',
        summary: 'Report session start, each statement run and the end',
        description: 'All or nothing: 202 once the records are durable. A statement must name a decision this PDP issued to this PEP that allowed it, else 403 and nothing recorded; 503 with details.accepted says how many to drop before resending.',
        security: pep,
        requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref(SessionEventBatchV1), ref(SessionEventV1)] } } } },
        responses: {
          '202': json(SessionEventsAcceptedV1, 'Recorded'),
          ...errors([400, 'invalid-request (naming the field)'], [401, 'unauthenticated'], [403, 'forbidden: a resource not fronted, or a decision not issued or not allowing'], [413, 'payload-too-large'], [503, 'audit-unavailable; details.accepted events were taken']),
        },
      },
    },
    '/v1/sql/outputs': {
      post: {
        operationId: 'sqlOutputs',
        summary: 'What each result column of one SELECT is computed from (analysis only: no policy, no audit)',
        security: pep,
        requestBody: body(SqlOutputsRequestV1),
        responses: { '200': json(SqlOutputsResponseV1, 'The output provenance'), ...errors([400, 'invalid-request: not exactly one row-returning SELECT'], [401, 'unauthenticated'], [403, 'forbidden'], [413, 'payload-too-large']) },
      },
    },
    '/v1/approvals': {
      get: {
        operationId: 'listPendingApprovals',
        summary: 'One page of the pending queue, soonest expiry first, long actions shortened (console roles)',
        security: anyPrincipal,
        parameters: [query('page', 'next_page of the previous page', { type: 'string', maxLength: 128 }), query('limit', 'at most the configured page size', { type: 'integer', minimum: 1 })],
        responses: { '200': json(ApprovalQueuePageV1, 'A page of the queue'), ...errors([400, 'invalid-request'], [401, 'unauthenticated'], [403, 'forbidden'], [503, 'approvals-unavailable']) },
      },
    },
    '/v1/approvals/history': {
      get: {
        operationId: 'listResolvedApprovals',
        summary: 'Recently resolved approvals, newest first (console roles)',
        security: anyPrincipal,
        parameters: [query('limit', 'default 50', { type: 'integer', minimum: 1, maximum: 500 })],
        responses: { '200': json(ApprovalHistoryV1, 'Resolved approvals'), ...errors([400, 'invalid-request'], [401, 'unauthenticated'], [403, 'forbidden'], [503, 'approvals-unavailable']) },
      },
    },
    '/v1/approvals/{id}': {
      get: {
        operationId: 'getApproval',
        summary: 'The whole record; with wait, as soon as it leaves pending (long poll). The PEP role (for resources it fronts) or console roles',
        security: anyPrincipal,
        parameters: [approvalId, query('wait', 'seconds to wait for it to leave pending (at most the configured maximum, default 60)', { type: 'integer', minimum: 0 })],
        responses: { '200': json(ApprovalAnswerV1, 'The approval'), ...errors([400, 'invalid-request'], [401, 'unauthenticated'], [403, 'forbidden'], [404, 'not-found'], [503, 'approvals-unavailable']) },
      },
    },
    '/v1/approvals/{id}/votes': {
      post: {
        operationId: 'voteOnApproval',
        summary: 'Approve or deny (a console session; the approval rules decide who may)',
        security: anyPrincipal,
        parameters: [approvalId],
        requestBody: body(ApprovalVoteRequestV1),
        responses: {
          '200': json(ApprovalAnswerV1, 'The approval after the vote'),
          ...errors([400, 'invalid-request, reason-required'], [401, 'unauthenticated'], [403, 'self-approval, role-not-allowed, kind-not-allowed'], [404, 'not-found'], [409, 'already-voted, not-pending, expired'], [503, 'approvals-unavailable, audit-unavailable']),
        },
      },
    },
    '/v1/audit/report': {
      get: {
        operationId: 'auditReport',
        summary: "The NIST SP 800-53 evidence report over the PDP's own audit store (a console session, role auditor or approver)",
        description: 'The trail is verified and the decisions of the period are replayed with their archived bundles first: the same function as `portcullis audit report`, so the same facts (each control\'s evidence and verification, "decisions re-verified: N of M" under AC-3 and AU-10, each stream\'s retention and oldest record held). docs/audit-trail.md.',
        security: anyPrincipal,
        parameters: [
          query('from', 'only records from this ISO date or time on (inclusive)', { type: 'string' }),
          query('to', 'only records before this ISO date or time', { type: 'string' }),
          query('format', 'html (default: one page, inline SVG charts, no script), md or json (the report\'s model)', { type: 'string', enum: ['html', 'md', 'json'] }),
        ],
        responses: {
          '200': {
            description: 'The report',
            content: { 'text/html': { schema: { type: 'string' } }, 'text/markdown': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } },
          },
          ...errors([400, 'invalid-request: a bad format, from or to'], [401, 'unauthenticated: no console session'], [403, 'forbidden: a role that does not read the report']),
        },
      },
    },
    '/v1/data/{path}': {
      parameters: [{ name: 'path', in: 'path', required: true, description: 'The document, e.g. portcullis/decision', schema: { type: 'string' } }],
      post: {
        operationId: 'queryData',
        summary: "OPA's Data API on the same bundle: OPA clients keep working",
        security: anyPrincipal,
        requestBody: { required: false, content: { 'application/json': { schema: ref(DataRequestV1) } } },
        responses: { '200': json(DataResponseV1, 'The document (no result when undefined)'), '400': json(DataErrorV1, "OPA's error shape"), '401': json(DataErrorV1, 'unauthenticated'), '403': json(DataErrorV1, 'forbidden') },
      },
      get: {
        operationId: 'getData',
        summary: "OPA's Data API without input",
        security: anyPrincipal,
        responses: { '200': json(DataResponseV1, 'The document (no result when undefined)'), '401': json(DataErrorV1, 'unauthenticated'), '403': json(DataErrorV1, 'forbidden') },
      },
    },
  };

  const websocket = {
    path: '/v1/ws',
    subprotocol: CONSOLE_SUBPROTOCOL,
    description: 'JSON text frames, one message each: a client sends ConsoleClientMessageV1, the server ConsoleServerMessageV1 (docs/approvals-protocol.md).',
    client: ref(ConsoleClientMessageV1),
    server: ref(ConsoleServerMessageV1),
  };
  const auditRecord = ref(AuditRecordV1);

  const schemas = Object.fromEntries([...registry.schemas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis PDP',
      version,
      description: 'The HTTP API of the Portcullis policy decision point that PEPs and clients use. Generated from @portcullis/contract; do not edit by hand.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: 'http://127.0.0.1:8181', description: 'npm start' }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        pepToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A PEP's credential (role pep), bound to the resources it fronts" },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A verified principal: a PEP, an agent, or a console session' },
      },
    },
    'x-portcullis-websocket': websocket,
    'x-portcullis-audit-record': auditRecord,
  };
}
