// A Streamable HTTP session driven by hand, for what the SDK client will not send (malformed
// JSON, duplicate keys, batches, unknown methods): each POST's answer is read whether it comes as
// JSON or as an SSE stream.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { McpServerEntry } from '../support/mcp-gateway.ts';
import type { StdioServerLaunch } from '../support/mcp-servers.ts';

const TAP = fileURLToPath(new URL('./stdio-tap.mjs', import.meta.url));

/** A servers-file entry for a stdio server behind the tap, which logs every line the gateway sends it to `log`. */
export function tappedServerEntry(name: string, launch: StdioServerLaunch, log: string): McpServerEntry {
  return { name, stdio: { command: process.execPath, args: [TAP, log, launch.command, ...launch.args], env: { ...launch.env } } };
}

/** What reached the tapped server so far ('' when nothing did: it never started). */
export function tappedLines(log: string): string {
  return existsSync(log) ? readFileSync(log, 'utf8') : '';
}

/** The pids of the taps started under this log (one per agent session). */
export function tapPids(log: string): number[] {
  return existsSync(`${log}.pid`) ? readFileSync(`${log}.pid`, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

export function markTap(log: string, note: string): void {
  appendFileSync(log, `-- ${note}\n`);
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON-RPC messages the answer carried (from a JSON body or from the SSE stream's events). */
  readonly messages: Record<string, any>[];
}

export class RawSession {
  sessionId: string | undefined;

  constructor(
    private readonly endpoint: string,
    private readonly token: string | undefined,
  ) {}

  /** initialize and notifications/initialized, as a client opens a session. */
  async open(): Promise<RawAnswer> {
    const answer = await this.post(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    this.sessionId = answer.headers.get('mcp-session-id') ?? undefined;
    await this.post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return answer;
  }

  async post(body: string | Buffer, headers: Record<string, string> = {}): Promise<RawAnswer> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(this.sessionId ? { 'mcp-session-id': this.sessionId, 'mcp-protocol-version': '2025-06-18' } : {}),
        ...headers,
      },
      body,
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    const messages = type.includes('text/event-stream')
      ? text.split('\n').filter((line) => line.startsWith('data: ') && line.length > 6).map((line) => JSON.parse(line.slice(6)))
      : text
        ? [JSON.parse(text)]
        : [];
    return { status: response.status, headers: response.headers, messages };
  }

  async close(): Promise<void> {
    if (this.sessionId === undefined) return;
    await fetch(this.endpoint, { method: 'DELETE', headers: { 'mcp-session-id': this.sessionId, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) } });
  }
}
