import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { configFail, readableFile, type SecretSource } from '@portcullis/pep-core';
import { parse as parseYaml } from 'yaml';

/** An MCP server the gateway starts for each agent session, as an MCP host would: its own process. */
export interface StdioServerConfig {
  readonly kind: 'stdio';
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the few variables every process needs (PATH, HOME …); the gateway's own are not passed on. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
}

/** An MCP server reached over Streamable HTTP; its credential is held by the gateway alone. */
export interface HttpServerConfig {
  readonly kind: 'http';
  readonly url: URL;
  /** Sent as `Authorization: Bearer <secret>`, read per session (a rotated file is picked up). */
  readonly credential: SecretSource | undefined;
}

/** One upstream server: a resource in policy (`type: "mcp"`) and how the gateway reaches it. */
export interface UpstreamServerConfig {
  /** The resource name, and the path segment agents reach it under (`/mcp/<name>`). */
  readonly name: string;
  readonly environment: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly transport: StdioServerConfig | HttpServerConfig;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SERVER_KEYS = new Set(['name', 'environment', 'labels', 'stdio', 'http']);

/**
 * The servers file (JSON or YAML, by extension: .json, else YAML, which reads JSON too):
 *
 * ```yaml
 * servers:
 *   - name: files                      # resource name and path: /mcp/files
 *     environment: production
 *     labels: { team: data }
 *     stdio: { command: npx, args: [-y, server], env: { KEY: value }, cwd: /srv }
 *   - name: tickets
 *     http: { url: https://tickets.internal/mcp, credential: { file: /run/secrets/tickets } }  # or { env: NAME }
 * ```
 * Every problem is a ConfigError naming the file and the entry.
 */
export function readUpstreamServers(file: string, env: NodeJS.ProcessEnv = process.env): readonly UpstreamServerConfig[] {
  const path = resolve(file);
  readableFile('PORTCULLIS_PEP_MCP_SERVERS_FILE', path);
  const text = readFileSync(path, 'utf8');
  let document: unknown;
  try {
    document = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    configFail(path, `cannot be read as ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  const servers = isObject(document) ? document.servers : undefined;
  if (!Array.isArray(servers) || servers.length === 0) configFail(path, 'must hold "servers": a non-empty list of MCP servers');
  const names = new Set<string>();
  return servers.map((entry, index) => {
    const server = readServer(entry, `${path}: servers[${index}]`, { baseDir: dirname(path), env });
    if (names.has(server.name)) configFail(`${path}: servers[${index}].name`, `"${server.name}" is named twice`);
    names.add(server.name);
    return server;
  });
}

interface ReadContext {
  readonly baseDir: string;
  readonly env: NodeJS.ProcessEnv;
}

function readServer(entry: unknown, at: string, context: ReadContext): UpstreamServerConfig {
  if (!isObject(entry)) configFail(at, 'must be an object');
  const unknown = Object.keys(entry).find((key) => !SERVER_KEYS.has(key));
  if (unknown !== undefined) configFail(`${at}.${unknown}`, `is not a setting (known: ${[...SERVER_KEYS].join(', ')})`);
  const name = entry.name;
  if (typeof name !== 'string' || !NAME.test(name)) configFail(`${at}.name`, 'is required: letters, digits, ".", "_" and "-", at most 128, starting with a letter or digit');
  const environment = entry.environment;
  if (environment !== undefined && (typeof environment !== 'string' || environment.length === 0)) configFail(`${at}.environment`, 'must be a non-empty string');
  const labels = stringMap(entry.labels, `${at}.labels`);
  if ((entry.stdio === undefined) === (entry.http === undefined)) configFail(at, 'set exactly one of "stdio" (a command) and "http" (a URL)');
  const transport = entry.stdio !== undefined ? readStdio(entry.stdio, `${at}.stdio`, context.baseDir) : readHttp(entry.http, `${at}.http`, context);
  return { name, environment, labels, transport };
}

function readStdio(value: unknown, at: string, baseDir: string): StdioServerConfig {
  if (!isObject(value)) configFail(at, 'must be an object with "command"');
  const unknown = Object.keys(value).find((key) => !['command', 'args', 'env', 'cwd'].includes(key));
  if (unknown !== undefined) configFail(`${at}.${unknown}`, 'is not a setting (known: command, args, env, cwd)');
  if (typeof value.command !== 'string' || value.command.length === 0) configFail(`${at}.command`, 'is required: the program to run');
  const args = value.args ?? [];
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) configFail(`${at}.args`, 'must be a list of strings');
  if (value.cwd !== undefined && typeof value.cwd !== 'string') configFail(`${at}.cwd`, 'must be a folder path');
  return { kind: 'stdio', command: value.command, args, env: stringMap(value.env, `${at}.env`), cwd: typeof value.cwd === 'string' ? resolve(baseDir, value.cwd) : undefined };
}

function readHttp(value: unknown, at: string, context: ReadContext): HttpServerConfig {
  if (!isObject(value)) configFail(at, 'must be an object with "url"');
  const unknown = Object.keys(value).find((key) => key !== 'url' && key !== 'credential');
  if (unknown !== undefined) configFail(`${at}.${unknown}`, 'is not a setting (known: url, credential)');
  let url: URL;
  try {
    url = new URL(String(value.url));
  } catch {
    configFail(`${at}.url`, `must be an http(s) URL (got "${String(value.url)}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') configFail(`${at}.url`, `must be an http(s) URL (got "${url.href}")`);
  if (url.username || url.password) configFail(`${at}.url`, 'must not carry a user or password: give a "credential"');
  return { kind: 'http', url, credential: readCredential(value.credential, `${at}.credential`, context) };
}

function readCredential(value: unknown, at: string, context: ReadContext): SecretSource | undefined {
  if (value === undefined) return undefined;
  if (isObject(value) && Object.keys(value).length === 1 && typeof value.file === 'string') {
    const file = isAbsolute(value.file) ? value.file : resolve(context.baseDir, value.file);
    readableFile(at, file);
    return { file };
  }
  if (isObject(value) && Object.keys(value).length === 1 && typeof value.env === 'string') {
    if (context.env[value.env] === undefined) configFail(`${at}.env`, `names ${value.env}, which is not set`);
    return { env: value.env };
  }
  return configFail(at, 'must be { file: <path> } or { env: <variable> } (a secret is never written in the servers file)');
}

function stringMap(value: unknown, at: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value) || !Object.values(value).every((item) => typeof item === 'string')) configFail(at, 'must map names to strings');
  return value as Record<string, string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
