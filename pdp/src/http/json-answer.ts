import type { ServerResponse } from 'node:http';

/**
 * Writes a JSON answer straight to Node's response: what Express's `response.json` sends (same
 * type and length headers), without its per-call content negotiation and freshness checks, which
 * an API answer never needs — and usable where a response has no Express methods (pep-lane.ts).
 */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  sendJsonText(response, status, JSON.stringify(body));
}

/** A 200 JSON answer. */
export function sendJsonAnswer(response: ServerResponse, body: unknown): void {
  sendJsonText(response, 200, JSON.stringify(body));
}

/** JSON already serialised (e.g. pretty-printed). */
export function sendJsonText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
