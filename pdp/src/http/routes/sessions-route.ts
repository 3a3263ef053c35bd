import { Router, type Request, type Response } from 'express';
import { openAuditReader } from '../../audit/verification/readers/audit-reader-factory.ts';
import type { PdpConfig } from '../../config/pdp-config.ts';
import { PortcullisError } from '../../errors/portcullis-error.ts';
import { parseTtlSeconds } from '../../identity/ttl.ts';
import { listSessions, sessionDetail, type SessionFilter } from '../../sessions/session-catalog.ts';
import { asciicastText, readRecording } from '../../sessions/session-recording.ts';

/** Sessions one list answer holds at most (newest first). */
export const MAX_LISTED_SESSIONS = 500;

/**
 * /v1/sessions — the console's Sessions view over the PDP's own audit store (Kafka or JSONL),
 * what `portcullis sessions list|show|replay` prints: `GET /v1/sessions?principal&resource&since|from&to`,
 * `GET /v1/sessions/{id}` (its commands with their decisions and approvals) and
 * `GET /v1/sessions/{id}/recording` (the asciicast v2 file of an interactive session). Each
 * request reads the trail from the start: fine for a console, not an API to poll.
 */
export function sessionsRoute(config: PdpConfig): Router {
  const router = Router();
  const withReader = async <T>(read: (reader: ReturnType<typeof openAuditReader>) => Promise<T>): Promise<T> => {
    const reader = openAuditReader({}, config);
    try {
      return await read(reader);
    } finally {
      await reader.close();
    }
  };

  router.get('/', async (request: Request, response: Response) => {
    const filter = filterOf(request.query);
    const sessions = await withReader((reader) => listSessions(reader, filter));
    response.setHeader('Cache-Control', 'no-store');
    response.json({ sessions: sessions.slice(0, MAX_LISTED_SESSIONS), truncated: sessions.length > MAX_LISTED_SESSIONS });
  });

  router.get('/:id', async (request: Request, response: Response) => {
    const id = sessionId(request.params.id);
    const detail = await withReader((reader) => sessionDetail(reader, id));
    if (!detail) throw new PortcullisError('not-found', 'no such session in the audit trail');
    response.setHeader('Cache-Control', 'no-store');
    response.json(detail);
  });

  router.get('/:id/recording', async (request: Request, response: Response) => {
    const id = sessionId(request.params.id);
    const recording = await withReader((reader) => readRecording(reader, id));
    if (!recording) throw new PortcullisError('not-found', 'this session has no recording in the audit trail');
    response.setHeader('Cache-Control', 'no-store');
    // What the file cannot say: chunks missing from the trail, and whether its end is there.
    response.setHeader('Portcullis-Recording-Missing', recording.missing.join(','));
    response.setHeader('Portcullis-Recording-Final', String(recording.final));
    response.type('application/x-asciicast').send(asciicastText(recording));
  });
  return router;
}

function filterOf(query: Request['query']): SessionFilter {
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || value.length > 1024) throw new PortcullisError('invalid-request', `${name} must be one short text`, { field: name });
    return value;
  };
  const time = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = Date.parse(value);
    if (Number.isNaN(parsed)) throw new PortcullisError('invalid-request', `${name} must be an ISO date or time`, { field: name });
    return parsed;
  };
  const since = text('since');
  let from = time('from');
  if (since !== undefined) {
    try {
      from = Date.now() - parseTtlSeconds(since) * 1000;
    } catch {
      throw new PortcullisError('invalid-request', 'since must be a duration such as 30m, 24h or 7d', { field: 'since' });
    }
  }
  const to = time('to');
  const principal = text('principal');
  const resource = text('resource');
  return {
    ...(principal === undefined ? {} : { principal }),
    ...(resource === undefined ? {} : { resource }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}

function sessionId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw new PortcullisError('invalid-request', 'a session id is 1 to 256 characters', { field: 'id' });
  return value;
}
