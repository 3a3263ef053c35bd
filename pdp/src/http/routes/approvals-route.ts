import { approvalVoteRequestV1Validator } from '@portcullis/contract';
import { Router, type Request, type Response, type RequestHandler } from 'express';
import type { ApprovalBroker } from '../../approvals/approval-broker.ts';
import type { ApprovalRecord } from '../../approvals/approval-store.ts';
import { approvalRecordView } from '../../approvals/approval-view.ts';
import { PortcullisError, type ErrorCode } from '../../errors/portcullis-error.ts';
import { acceptedOrRefused } from '../contract-body.ts';
import { assertFronts } from '../resource-authorization.ts';

export interface ApprovalsRouteOptions {
  readonly broker: ApprovalBroker;
  /** PEPs (for the resources they front) and console users: may read and wait on one approval. */
  readonly readers: RequestHandler;
  /** Console users: may list the queue and history. */
  readonly watchers: RequestHandler;
  /** Any verified principal: voting rights are checked per approval by the store's rules. */
  readonly voters: RequestHandler;
  readonly jsonBody: RequestHandler;
  readonly maxWaitSeconds: number;
  /** Default and largest page of the queue listing. */
  readonly pageSize: number;
  /** Listed approvals carry at most this many characters of their action (GET /:id has all). */
  readonly listedActionChars: number;
}

const APPROVAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * /v1/approvals — the HTTP side of the broker, for clients without a WebSocket:
 * GET /?page=cursor&limit=n (the pending queue, a page at a time, long actions shortened),
 * GET /history, GET /:id?wait=seconds (the whole record; long-poll), POST /:id/votes.
 */
export function approvalsRoute(options: ApprovalsRouteOptions): Router {
  const { broker } = options;
  const router = Router();
  const listed = (record: ApprovalRecord) => approvalRecordView(record, { listedActionChars: options.listedActionChars });

  router.get('/', options.watchers, async (request: Request, response: Response) => {
    const limit = boundedInteger(request.query.limit, 'limit', options.pageSize, 1, options.pageSize);
    const page = request.query.page;
    if (page !== undefined && (typeof page !== 'string' || page.length > 128)) throw new PortcullisError('invalid-request', 'page must be a cursor from next_page', { field: 'page' });
    let result;
    try {
      result = await broker.pendingPage(page === '' ? undefined : page, limit);
    } catch (error) {
      if (error instanceof RangeError) throw new PortcullisError('invalid-request', 'page must be a cursor from next_page', { field: 'page' });
      throw error;
    }
    response.json({ cursor: result.eventCursor, pending: result.records.map(listed), ...(result.next === undefined ? {} : { next_page: result.next }) });
  });

  router.get('/history', options.watchers, async (request: Request, response: Response) => {
    const limit = boundedInteger(request.query.limit, 'limit', 50, 1, 500);
    response.json({ resolved: (await broker.recentResolved(limit)).map(listed) });
  });

  router.get('/:id', options.readers, async (request: Request, response: Response) => {
    const id = approvalId(request.params.id);
    const waitSeconds = boundedInteger(request.query.wait, 'wait', 0, 0, options.maxWaitSeconds);
    // A client that goes away stops the wait, so abandoned long-polls hold nothing.
    const abort = new AbortController();
    response.on('close', () => abort.abort());
    const caller = response.locals.caller;
    if (caller !== undefined) {
      // A PEP sees, and waits on, approvals for the resources it fronts only.
      const current = await broker.get(id);
      if (current === undefined) throw new PortcullisError('not-found', `no approval ${id}`);
      assertFronts(caller, current.resource);
    }
    const record = waitSeconds === 0 ? await broker.get(id) : await broker.waitForResolution(id, waitSeconds * 1000, abort.signal);
    if (record === undefined) throw new PortcullisError('not-found', `no approval ${id}`);
    if (!response.writableEnded && !abort.signal.aborted) response.json({ approval: approvalRecordView(record) });
  });

  router.post('/:id/votes', options.voters, options.jsonBody, async (request: Request, response: Response) => {
    const id = approvalId(request.params.id);
    // A body that is not an object is read as an empty one: the refusal names the verdict it lacks.
    const body = acceptedOrRefused(approvalVoteRequestV1Validator.read(typeof request.body === 'object' && request.body !== null && !Array.isArray(request.body) ? request.body : {}));
    const principal = response.locals.principal!;
    const result = await broker.vote(id, { sub: principal.sub, iss: principal.iss, kind: principal.kind, roles: principal.roles }, body.verdict, body.reason ?? '');
    if (!result.ok) throw new PortcullisError(result.code === 'not-found' ? 'not-found' : (result.code as ErrorCode), result.message);
    response.json({ approval: listed(result.record) });
  });

  return router;
}

function approvalId(raw: unknown): string {
  if (typeof raw !== 'string' || !APPROVAL_ID.test(raw)) throw new PortcullisError('invalid-request', 'the approval id must be a UUID', { field: 'id' });
  return raw;
}

function boundedInteger(raw: unknown, field: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value) || value < min || value > max) {
    throw new PortcullisError('invalid-request', `${field} must be an integer from ${min} to ${max}`, { field });
  }
  return value;
}
