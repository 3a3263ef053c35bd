import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
}

export interface WrkRun {
  readonly url: string;
  readonly bodies: readonly string[];
  readonly headers: Record<string, string>;
  readonly connections: number;
  readonly threads: number;
  readonly seconds: number;
  readonly scriptPath: string;
  /** POST (default: each body round-robin) or GET (no body; `bodies` ignored). */
  readonly method?: 'GET' | 'POST';
  /**
   * Servers (`host:port`) the load is spread over, one wrk thread after another round-robin
   * (`threads` a multiple of their count gives each the same connections); the URL's path and
   * headers for all. Default: the URL's own server.
   */
  readonly servers?: readonly string[];
  /**
   * A pause before each request on a connection, in ms: with C connections and latency L the
   * offered rate is about C / (delay + L), steady when L is small beside the delay (a fixed rate
   * measures CPU per request more cleanly than saturation).
   */
  readonly delayMs?: number;
  /** wrk's per-request timeout (default 2 s, counted as a socket error): longer for a loaded machine. */
  readonly timeoutSeconds?: number;
}

/**
 * Drives one HTTP target with wrk (C, event-driven: the load generator takes little of the
 * two cores the targets share), POSTing the bodies round-robin over keep-alive connections.
 */
export async function runWrk(options: WrkRun): Promise<WrkResult> {
  const requests = options.method === 'GET' ? getScript(options.headers) : luaScript(options.bodies, options.headers);
  writeFileSync(options.scriptPath, `${requests}${serversScript(options.servers)}${delayScript(options.delayMs)}`);
  const { stdout, stderr } = await run('wrk', [
    '--latency', '-t', String(options.threads), '-c', String(options.connections), '-d', `${options.seconds}s`,
    ...(options.timeoutSeconds === undefined ? [] : ['--timeout', `${options.timeoutSeconds}s`]),
    '-s', options.scriptPath, options.url,
  ], { maxBuffer: 16 * 1024 * 1024 });
  // wrk runs its defaults (GET, no body) when the script fails to load: never measure that.
  if (/\.lua:\d+:/.test(stderr) || /\.lua:\d+:/.test(stdout)) throw new Error(`wrk could not load its script: ${stderr || stdout}`);
  const result = parseWrk(stdout);
  if (result.non2xx > 0 || result.errors > 0) {
    const kinds = /Socket errors:[^\n]*/.exec(stdout)?.[0] ?? '';
    throw new Error(`wrk saw ${result.non2xx} non-2xx answers and ${result.errors} socket errors (${kinds}) from ${options.url}: the run measures failures, not decisions`);
  }
  return result;
}

/** wrk's setup() runs once per thread before it connects: each thread takes the next server. */
function serversScript(servers: readonly string[] | undefined): string {
  if (!servers || servers.length === 0) return '';
  const list = servers.map((server) => {
    const match = /^(.+):(\d+)$/.exec(server);
    if (!match) throw new TypeError(`wrk: a server is host:port, got "${server}"`);
    return `{ "${match[1]}", "${match[2]}" }`;
  });
  return `
local servers = { ${list.join(', ')} }
local next_server = 0
setup = function(thread)
  next_server = next_server % #servers + 1
  local server = servers[next_server]
  thread.addr = wrk.lookup(server[1], server[2])[1]
end
`;
}

function delayScript(delayMs: number | undefined): string {
  if (delayMs === undefined) return '';
  if (!(delayMs > 0)) throw new RangeError(`wrk: delayMs must be positive, got ${delayMs}`);
  return `
delay = function()
  return ${Math.round(delayMs)}
end
`;
}

function luaHeaders(headers: Record<string, string>): string {
  const quote = (text: string): string => `[==[${text}]==]`;
  return `{ ${Object.entries(headers).map(([k, v]) => `[ ${quote(k)} ] = ${quote(v)}`).join(', ')} }`;
}

/** GETs of the URL's own path with these headers, over keep-alive connections. */
function getScript(headers: Record<string, string>): string {
  return `
local headers = ${luaHeaders(headers)}
local path = nil
init = function(args) path = wrk.path end
request = function()
  return wrk.format("GET", path, headers, nil)
end
`;
}

function luaScript(bodies: readonly string[], headers: Record<string, string>): string {
  const quote = (text: string): string => `[==[${text}]==]`;
  return `
local bodies = { ${bodies.map(quote).join(',\n')} }
local headers = { ${Object.entries(headers).map(([k, v]) => `[ ${quote(k)} ] = ${quote(v)}`).join(', ')} }
local index = 0
local path = nil
init = function(args) path = wrk.path end
request = function()
  index = index % #bodies + 1
  return wrk.format("POST", path, headers, bodies[index])
end
`;
}

export function parseWrk(output: string): WrkResult {
  const number = (pattern: RegExp): number => {
    const match = pattern.exec(output);
    return match ? Number(match[1]) : 0;
  };
  const latency = (percent: string): number => {
    const match = new RegExp(`^\\s*${percent}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(output);
    if (!match) return Number.NaN;
    const value = Number(match[1]);
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    requests: number(/(\d+) requests in/),
    errors: errors ? errors.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0,
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/),
    p50Ms: latency('50'),
    p90Ms: latency('90'),
    p99Ms: latency('99'),
  };
}

/** The median run by throughput; of an even count, the lower middle (conservative, for every target alike). */
export function medianRun(runs: readonly WrkResult[]): WrkResult {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** The run-level context every result file records. */
export function loadDescription(connections: number, seconds: number, rounds: number, mix: number) {
  return { generator: 'wrk', connections, seconds, rounds, mix };
}
