// The starter pack as shipped, plus a few more MCP resources and their rules, for the server suites
// that need a behaviour the starter pack's own servers do not show (a server that may not ask the
// agent anything, a prompt or resource prefix refused). The shipped rules are untouched: only
// data is added, so every decision still runs through the starter pack's Rego.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

export interface McpResourceVariant {
  readonly environment: 'staging' | 'production';
  /** Its entry in mcp_rules.servers (to_client, denied_prompts, denied_uri_prefixes, roots …). */
  readonly rules: Record<string, unknown>;
  /** Its entry in mcp_rules.tool_arguments: which arguments of which tools hold SQL, commands, paths. */
  readonly toolArguments?: Record<string, Record<string, 'sql' | 'shell' | 'path'>>;
}

export interface PolicyVariant {
  /** The folder for PORTCULLIS_POLICY_DIR (the PDP compiles it with the real opa). */
  readonly dir: string;
  remove(): void;
}

/** A copy of policies/portcullis (no tests) whose data knows `resources` as MCP servers too. */
export function starterPackWith(resources: Readonly<Record<string, McpResourceVariant>>): PolicyVariant {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-mcp-policy-variant-'));
  const target = join(dir, 'portcullis');
  cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), target, { recursive: true, filter: (path) => !path.endsWith('_test.rego') });
  const data = readJson(join(target, 'data.json')) as { resources: Record<string, unknown> };
  const mcpRules = readJson(join(target, 'mcp_rules/data.json')) as { servers: Record<string, unknown>; tool_arguments: Record<string, unknown> };
  for (const [name, variant] of Object.entries(resources)) {
    if (name in data.resources) throw new Error(`the starter pack already has a resource named ${name}`);
    data.resources[name] = { type: 'mcp', environment: variant.environment };
    mcpRules.servers[name] = variant.rules;
    if (variant.toolArguments) mcpRules.tool_arguments[name] = variant.toolArguments;
  }
  writeFileSync(join(target, 'data.json'), `${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(join(target, 'mcp_rules/data.json'), `${JSON.stringify(mcpRules, null, 2)}\n`);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}
