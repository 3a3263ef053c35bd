import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { ActionV1 } from '@portcullis/contract';
import { ActionEnricher, type EnrichedAction } from '../src/enrichment/action-enricher.ts';
import { BundleMcpArgumentRules } from '../src/enrichment/mcp/mcp-argument-rules.ts';

type McpAction = Extract<ActionV1, { type: 'mcp' }>;

const bundleData = {
  portcullis: {
    mcp_rules: {
      tool_arguments: {
        '*': { run: { command: 'shell', cwd: 'path' } },
        files: { write_file: { path: 'path' }, read_multiple_files: { paths: 'path' }, run: { cwd: 'sql' }, odd: { constructor: 'path' } },
        db: { query: { sql: 'sql', note: 'yaml' }, odd: JSON.parse('{"__proto__": "sql"}') as Record<string, string> },
      },
    },
  },
};

function call(tool: string, args?: Record<string, unknown>): McpAction {
  return { type: 'mcp', method: 'tools/call', tool, ...(args === undefined ? {} : { arguments: args }) };
}

function analysisOf(action: EnrichedAction): Record<string, Record<string, unknown>> {
  assert.equal(action.type, 'mcp');
  if (action.type !== 'mcp') throw new Error('unreachable');
  assert.ok(action.argument_analysis, 'argument_analysis is present');
  return action.argument_analysis as Record<string, Record<string, unknown>>;
}

describe('which MCP tool arguments the active bundle names for analysis', () => {
  it('knows none before a bundle is active, and those of the bundle once one is', () => {
    const rules = new BundleMcpArgumentRules();
    assert.equal(rules.kindsFor('db', 'query').size, 0);
    rules.update(bundleData);
    assert.deepEqual([...rules.kindsFor('db', 'query')], [['sql', 'sql']], 'a kind the PDP does not know is left out (policy denies)');
    assert.deepEqual([...rules.kindsFor('other', 'run')], [['command', 'shell'], ['cwd', 'path']]);
    // The server's own entry wins over *, argument by argument.
    assert.deepEqual(Object.fromEntries(rules.kindsFor('files', 'run')), { command: 'shell', cwd: 'sql' });
    rules.update({ portcullis: { mcp_rules: { tool_arguments: 'garbage' } } });
    assert.equal(rules.kindsFor('files', 'run').size, 0, 'a new bundle replaces the rules whole');
  });
});

describe('MCP actions as policy sees them', () => {
  let enricher: ActionEnricher;
  before(async () => {
    const rules = new BundleMcpArgumentRules();
    rules.update(bundleData);
    enricher = await ActionEnricher.create({ mcpArguments: rules });
  });

  it('analyses a SQL argument with the SQL analyzer, as a statement through the Postgres PEP', async () => {
    const analysis = analysisOf(await enricher.enrich(call('query', { sql: 'SELECT id, email FROM users', limit: 5 }), { name: 'db' }));
    assert.deepEqual(Object.keys(analysis), ['sql']);
    assert.equal(analysis.sql!.kind, 'sql');
    assert.equal(analysis.sql!.parse_error, null);
    const [statement] = analysis.sql!.statements as Array<{ kind: string; tables: string[] }>;
    assert.equal(statement!.kind, 'select');
    assert.deepEqual(statement!.tables, ['users']);
  });

  it('redacts a SQL argument\'s credentials in the analysis and in the arguments policy and the records get', async () => {
    const sent = call('query', { sql: "ALTER ROLE app PASSWORD 'hunter2'", note: 'x' });
    const action = await enricher.enrich(sent, { name: 'db' });
    assert.ok(action.type === 'mcp');
    assert.doesNotMatch(JSON.stringify(action), /hunter2/);
    assert.match(String(action.arguments?.sql), /\[redacted\]/);
    assert.equal(action.arguments?.note, 'x');
    assert.equal(sent.arguments?.sql, "ALTER ROLE app PASSWORD 'hunter2'", 'the request itself is untouched');
  });

  it('analyses a shell argument with the shell analyzer, as a command through the SSH PEP', async () => {
    const analysis = analysisOf(await enricher.enrich(call('run', { command: 'ls -l /srv | wc -l', cwd: '/srv' }), { name: 'any' }));
    assert.equal(analysis.command!.kind, 'shell');
    assert.deepEqual((analysis.command!.commands as Array<{ name: string }>).map((command) => command.name), ['ls', 'wc']);
    assert.deepEqual(analysis.cwd, { kind: 'path', paths: ['/srv'], parse_error: null });
  });

  it('normalises path arguments, one path or an array, as file operations\' paths', async () => {
    const one = analysisOf(await enricher.enrich(call('write_file', { path: '/srv//app/./a.txt', content: 'x' }), { name: 'files' }));
    assert.deepEqual(one.path, { kind: 'path', paths: ['/srv/app/a.txt'], parse_error: null });
    const many = analysisOf(await enricher.enrich(call('read_multiple_files', { paths: ['/a', '/b/'] }), { name: 'files' }));
    assert.deepEqual(many.paths, { kind: 'path', paths: ['/a', '/b'], parse_error: null });
  });

  it('gives a named argument that is missing, mistyped or unreadable a parse_error', async () => {
    const problem = async (args: Record<string, unknown> | undefined, name = 'path', tool = 'write_file', server = 'files') =>
      String(analysisOf(await enricher.enrich(call(tool, args), { name: server }))[name]!.parse_error);
    assert.match(await problem(undefined), /argument path is missing/);
    assert.match(await problem({ path: 7 }), /argument path is not a path or an array of paths/);
    assert.match(await problem({ path: 'relative/a.txt' }), /argument path path is relative/);
    assert.match(await problem({ path: '/srv/../etc/passwd' }), /\.\. segment/);
    assert.match(await problem({ path: '/proc/self/root/etc/shadow' }), /path/);
    assert.match(await problem({ paths: [] }, 'paths', 'read_multiple_files'), /names no path/);
    assert.match(await problem({ paths: ['/a', '../b'] }, 'paths', 'read_multiple_files'), /path 2 /);
    assert.match(await problem({ sql: 42 }, 'sql', 'query', 'db'), /argument sql is not a string/);
    assert.match(await problem({ command: ['ls'] }, 'command', 'run', 'any'), /argument command is not a string/);
    assert.notEqual(await problem({ sql: 'SELEC 1' }, 'sql', 'query', 'db'), 'null');
  });

  it('reads an argument named like an object member (constructor) only as sent, never from the prototype', async () => {
    const member: string = 'constructor';
    const absent = analysisOf(await enricher.enrich(call('odd', {}), { name: 'files' }));
    assert.match(String(absent[member]?.parse_error), /argument constructor is missing/);
    const sent = analysisOf(await enricher.enrich(call('odd', { constructor: '/srv/a' }), { name: 'files' }));
    assert.deepEqual(sent[member], { kind: 'path', paths: ['/srv/a'], parse_error: null });
  });

  it('redacts a SQL argument named __proto__ as any other (an own member, as in the JSON sent)', async () => {
    const sent = call('odd', JSON.parse(`{"__proto__": "ALTER ROLE app PASSWORD 'hunter2'"}`) as Record<string, unknown>);
    const action = await enricher.enrich(sent, { name: 'db' });
    assert.doesNotMatch(JSON.stringify(action), /hunter2/);
    assert.equal(Object.getOwnPropertyDescriptor(analysisOf(action), '__proto__')?.value?.kind, 'sql');
  });

  it('analyses nothing that policy data does not name, and nothing but tools/call', async () => {
    const unnamed = await enricher.enrich(call('echo', { message: 'SELECT 1' }), { name: 'files' });
    assert.deepEqual(unnamed, call('echo', { message: 'SELECT 1' }));
    const list: McpAction = { type: 'mcp', method: 'tools/list', tools: [{ name: 'query', annotations: { readOnlyHint: true } }] };
    assert.deepEqual(await enricher.enrich(list, { name: 'db' }), list);
    const prompt: McpAction = { type: 'mcp', method: 'prompts/get', prompt: 'query', arguments: { sql: 'x' } };
    assert.deepEqual(await enricher.enrich(prompt, { name: 'db' }), prompt);
  });
});
