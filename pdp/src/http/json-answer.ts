import type { ServerResponse } from 'node:http';

/**
 * Writes a 200 JSON answer straight to Node's response: what Express's `response.json` sends
 * for a POST (same type and length headers), without its per-call content negotiation and
 * freshness checks, which a decision answer never needs.
 */
export function sendJsonAnswer(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
