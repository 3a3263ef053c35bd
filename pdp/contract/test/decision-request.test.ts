import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PATH, MAX_TEXT, readDecisionRequestV1 } from '@portcullis/contract';

const valid = {
  subject_token: 'eyJ…',
  resource: { type: 'postgres', name: 'orders-db', environment: 'production', labels: { team: 'payments' } },
  action: { type: 'sql', sql: 'DELETE FROM orders WHERE id = $1', parameters: [{ value: '7', type_oid: 23 }, { value: null }] },
  session: { id: 's1', client_addr: '10.0.0.7' },
  approval_id: '0b7e4c7e-9a51-4f0e-9a8e-0c6f0d8f6a11',
  defer_approval: true,
};

function refusal(body: unknown): string {
  const reading = readDecisionRequestV1(body);
  assert.equal(reading.ok, false, `accepted ${JSON.stringify(body)}`);
  if (reading.ok) throw new Error('unreachable');
  assert.ok(reading.message.startsWith(`${reading.field} `), 'the message starts with the field');
  return reading.message;
}

describe('the decision request (POST /v1/decisions) as the contract reads it', () => {
  it('reads a valid request as it was sent', () => {
    assert.deepEqual(readDecisionRequestV1(valid), { ok: true, value: valid });
  });

  it('gives an absent subject token as the empty string, and drops fields the contract does not name', () => {
    const reading = readDecisionRequestV1({ resource: { type: 't', name: 'n', extra: 1 }, action: { type: 'shell', command: 'ls', cwd: '/' }, extra: true });
    assert.deepEqual(reading, { ok: true, value: { subject_token: '', resource: { type: 't', name: 'n' }, action: { type: 'shell', command: 'ls' } } });
  });

  it('drops an argument_analysis a PEP sends with an mcp action: only the PDP analyses arguments', () => {
    const action = { type: 'mcp', method: 'tools/call', tool: 'query', arguments: { sql: 'DELETE FROM orders' } };
    const forged = { resource: { type: 'mcp', name: 'db' }, action: { ...action, argument_analysis: { sql: { kind: 'sql', parse_error: null, statements: [{ kind: 'select' }] } } } };
    assert.deepEqual(readDecisionRequestV1(forged), { ok: true, value: { subject_token: '', resource: { type: 'mcp', name: 'db' }, action } });
  });

  it('reads every action kind by its type', () => {
    const resource = { type: 't', name: 'n' };
    for (const action of [
      { type: 'kubernetes', method: 'delete', path: '/api/v1/namespaces/a/pods/b', query: { dryRun: ['All'] }, body: { kind: 'DeleteOptions' } },
      { type: 'http', method: 'POST', path: '/x', query: 'a=1', headers: { accept: 'application/json' }, body: [1, 2] },
      { type: 'connect', protocol: 'postgres', database: '', user: 'app', application_name: 'psql' },
      { type: 'connect', protocol: 'ssh', user: 'deploy', channel: 'subsystem', pty: false, subsystem: 'sftp' },
      { type: 'file', protocol: 'sftp', operation: 'write', path: 'notes.txt', cwd: '/home/deploy', open: { create: true, truncate: true }, attributes: { mode: 0o644 } },
      { type: 'file', operation: 'rename', path: '/srv/a', target_path: '/srv/b' },
      { type: 'network', protocol: 'ssh', direction: 'outbound', transport: 'tcp', host: 'db.internal', port: 5432 },
      { type: 'network', direction: 'inbound', transport: 'unix', socket_path: '/run/agent.sock' },
      { type: 'mcp', method: 'tools/call', tool: 'query', arguments: { sql: 'SELECT 1', limit: 5 }, annotations: { readOnlyHint: true, destructiveHint: false } },
      { type: 'mcp', method: 'tools/list', tools: [{ name: 'query', annotations: { title: 'Query' } }, { name: 'write_file' }] },
      { type: 'mcp', method: 'resources/read', uri: 'file:///srv/notes.txt' },
      { type: 'mcp', method: 'prompts/get', prompt: 'summarise', arguments: { topic: 'x' } },
      { type: 'mcp', method: 'sampling/createMessage', direction: 'to_client', params: { messages: [], maxTokens: 10 } },
    ]) {
      assert.deepEqual(readDecisionRequestV1({ resource, action }), { ok: true, value: { subject_token: '', resource, action } });
    }
  });

  it('names the refused field and what it must be', () => {
    const resource = { type: 'postgres', name: 'db' };
    const cases: [unknown, string][] = [
      [null, 'body must be an object'],
      [{ action: { type: 'sql', sql: '' } }, 'resource is required'],
      [{ resource: { type: 'postgres', name: '' }, action: { type: 'sql', sql: '' } }, 'resource.name must not be empty'],
      [{ resource: { ...resource, environment: 'x'.repeat(257) }, action: { type: 'sql', sql: '' } }, 'resource.environment must be at most 256 characters'],
      [{ resource: { ...resource, labels: { a: 1 } }, action: { type: 'sql', sql: '' } }, 'resource.labels.a must be a string'],
      [{ resource, action: {} }, 'action.type is required'],
      [{ resource, action: { type: 'ftp' } }, 'action.type must be one of sql, kubernetes, shell, http, connect, file, network, mcp'],
      [{ resource, action: { type: 'sql' } }, 'action.sql is required'],
      [{ resource, action: { type: 'sql', sql: 7 } }, 'action.sql must be a string'],
      [{ resource, action: { type: 'sql', sql: '', parameters: [{ value: 1 }] } }, 'action.parameters[0].value must be a string or null'],
      [{ resource, action: { type: 'sql', sql: '', parameters: [{ value: null, type_oid: -1 }] } }, 'action.parameters[0].type_oid must be an unsigned 32-bit integer'],
      [{ resource, action: { type: 'sql', sql: '', parameters: [{ value: 'x'.repeat(MAX_TEXT) }, { value: 'y' }] } }, `action.parameters must hold at most ${MAX_TEXT} characters in all`],
      [{ resource, action: { type: 'kubernetes', method: 'get', path: '/', query: { a: [1] } } }, 'action.query.a must be a string or an array of strings'],
      [{ resource, action: { type: 'shell', command: 'ls' }, approval_id: 'not-a-uuid' }, 'approval_id must be an approval id (a UUID)'],
      [{ resource, action: { type: 'shell', command: 'ls' }, defer_approval: 'yes' }, 'defer_approval must be a boolean'],
      [{ resource, action: { type: 'shell', command: 'ls' }, session: { id: '' } }, 'session.id must not be empty'],
      [{ resource, action: { type: 'connect', protocol: 'ssh', channel: 'tcpip' } }, 'action.channel must be one of shell, exec, subsystem, x11, agent-forwarding'],
      [{ resource, action: { type: 'file', operation: 'chmod', path: '/x' } }, 'action.operation must be one of read, write, list, stat, readlink, realpath, remove, rename, mkdir, rmdir, setstat, symlink, link'],
      [{ resource, action: { type: 'file', operation: 'read', path: '' } }, 'action.path must not be empty'],
      [{ resource, action: { type: 'file', operation: 'read', path: `/${'x'.repeat(MAX_PATH)}` } }, `action.path must be at most ${MAX_PATH} characters`],
      [{ resource, action: { type: 'network', direction: 'sideways', host: 'x', port: 1 } }, 'action.direction must be one of outbound, inbound'],
      [{ resource, action: { type: 'network', direction: 'outbound', host: 'x', port: 65536 } }, 'action.port must be a port number (0-65535)'],
      [{ resource, action: { type: 'network', direction: 'outbound', transport: 'udp', host: 'x', port: 53 } }, 'action.transport must be tcp or unix'],
      [{ resource, action: { type: 'mcp', method: 'tools/delete' } }, 'action.method must be one of tools/call, tools/list, resources/read, prompts/get, sampling/createMessage, elicitation/create, roots/list'],
      [{ resource, action: { type: 'mcp', method: 'tools/call', tool: '' } }, 'action.tool must not be empty'],
      [{ resource, action: { type: 'mcp', method: 'tools/call', tool: 'q', arguments: [1] } }, 'action.arguments must be an object'],
      [{ resource, action: { type: 'mcp', method: 'tools/call', tool: 'q', annotations: { readOnlyHint: 'yes' } } }, 'action.annotations.readOnlyHint must be a boolean'],
      [{ resource, action: { type: 'mcp', method: 'roots/list', direction: 'sideways' } }, 'action.direction must be to_client or to_server'],
    ];
    for (const [body, message] of cases) assert.equal(refusal(body), message);
  });
});
