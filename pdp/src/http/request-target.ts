/// <reference path="../types/parseurl.d.ts" />
import type { IncomingMessage } from 'node:http';
import parseurl from 'parseurl';

/**
 * The path and query of a request as Express's router reads them (parseurl, memoised on the
 * request): an absolute-form target (`POST http://host/v1/decisions`) is routed by its path and a
 * fragment is not part of either, so whatever labels or reads a request sees what routed it.
 */
export function requestPathname(request: IncomingMessage): string {
  return parseurl(request)?.pathname ?? '';
}

/** The raw query string (after `?`, before any `#`); empty without one. */
export function requestQueryString(request: IncomingMessage): string {
  const query = parseurl(request)?.query;
  return typeof query === 'string' ? query : '';
}
