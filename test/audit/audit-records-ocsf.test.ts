// Every kind of audit record the PDP writes — decisions (allow, deny, approval required, masked;
// SQL, connect, shell, Kubernetes, HTTP, Data API), session events (start, statement, runs of
// statements, end; SQL, shell, Kubernetes), approvals (requested, approved, denied, executed,
// expired) — is written by a real PDP, then checked by the OCSF 1.8.0 validator: no error, no
// warning. The trail still verifies (hash chains, signed digests and checkpoints).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AUDIT_RECORD_CLASSES, AuditDigestsRecordV1, contractValidator } from '@portcullis/contract';
import { deleteOrder, longPoll, requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { validateOcsf, type OcsfReport } from '../support/ocsf-validator.ts';
import { auditCli } from '../support/audit-cli.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { auditBodyOf } from '@portcullis/pdp';

const STREAMS = ['decisions', 'sessions', 'approvals', 'digests'] as const;
const PROD_DB = { type: 'postgres', name: 'orders-db', environment: 'production' };
const STAGING_DB = { type: 'postgres', name: 'orders-db-staging', environment: 'staging' };
const HOST = { type: 'ssh', name: 'web-1', environment: 'production' };
const CLUSTER = { type: 'kubernetes', name: 'prod-cluster', environment: 'production' };
const API = { type: 'http', name: 'billing-api', environment: 'production' };
const MCP_DB = { type: 'mcp', name: 'mcp-db', environment: 'staging' };

type Json = Record<string, any>;

async function post(pdp: TestPdp, path: string, body: unknown): Promise<number> {
  const response = await fetch(`${pdp.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${pdp.pepToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * One session of `protocol` in two batches: start and a lone statement (a `session.statement`
 * record: the batch ends its run), then three statements (one `session.statements` record, one
 * of them failing) and the end. `statements` pairs each text with the decision it ran under;
 * without a subject token the principal is unproven and the decisions unchecked.
 */
function sessionBatches(protocol: string, resource: Json, sessionId: string, token: string | undefined, statements: ReadonlyArray<readonly [Json, string]>): Json[][] {
  const session = { id: sessionId, client_addr: '10.0.0.7:51234' };
  const base = (event: string, at: number) => ({
    event, event_id: randomUUID(), time: new Date(Date.UTC(2026, 11, 6, 12, 0, 0, at)).toISOString(),
    ...(token ? { subject_token: token } : {}), session, protocol, resource,
  });
  const statement = (index: number, at: number, extra: Json = {}) => ({
    ...base('session.statement', at), statement: statements[index]![0], decision_id: statements[index]![1], status: 'success', duration_ms: 2.5, rows: 1, bytes: 64, ...extra,
  });
  return [
    [base('session.start', 0), statement(0, 100)],
    [
      statement(1, 300),
      statement(2, 310, { status: 'failure', error: 'canceling statement due to statement timeout' }),
      statement(3, 345, { masked_cells: 2 }),
      { ...base('session.end', 400), duration_ms: 400, statements: 4, rows: 4, bytes: 256, masked_cells: 2, reason: 'client-closed' },
    ],
  ];
}

function records(file: string): Json[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Json);
}

describe('audit records of every kind validate against OCSF 1.8.0 without an error or a warning', () => {
  const stateDirs: string[] = [];
  const running = new Set<TestPdp>();
  let report: OcsfReport;
  let all: Json[];
  let digests: Json[];

  before(async () => {
    const pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    running.add(pdp);
    stateDirs.push(pdp.stateDir);
    const reader = await pdp.token({ sub: 'agent:reporter', roles: ['reader'] });
    const writer = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const human = await pdp.token({ sub: 'dana', roles: ['reader', 'writer'], kind: 'human' });
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const bob = await pdp.consoleToken({ sub: 'bob', roles: ['approver'], kind: 'human' });
    const session = { id: 'sess-decisions', client_addr: '10.0.0.7:51234' };
    const decide = (token: string, resource: Json, action: Json) => pdp.decide({ subject_token: token, resource, action, session });

    // SQL: allow, masked allow, deny, approval required, an unparsable text, an unauthenticated caller.
    await decide(reader, STAGING_DB, { type: 'sql', sql: 'SELECT id, total FROM orders WHERE id = 7' });
    await decide(reader, PROD_DB, { type: 'sql', sql: 'SELECT email FROM users WHERE id = 1' });
    await decide(reader, PROD_DB, { type: 'sql', sql: 'DELETE FROM orders' });
    await decide(writer, PROD_DB, { type: 'sql', sql: "UPDATE orders SET status = 'x' WHERE id = 2" });
    await decide(reader, PROD_DB, { type: 'sql', sql: 'SELEC nothing' });
    await decide(reader, PROD_DB, { type: 'sql', sql: 'LISTEN orders; SET search_path = public' });
    await decide('not-a-token', PROD_DB, { type: 'sql', sql: 'SELECT 1' });
    // Opening sessions: SQL, shell and Kubernetes logins.
    await decide(reader, PROD_DB, { type: 'connect', protocol: 'postgres', database: 'orders', user: 'agent:reporter', application_name: 'psql' });
    await decide(reader, HOST, { type: 'connect', protocol: 'ssh', user: 'agent:reporter' });
    await decide(reader, CLUSTER, { type: 'connect', protocol: 'kubernetes' });
    // Shell, Kubernetes and HTTP commands.
    await decide(reader, HOST, { type: 'shell', command: 'ls -l /var/log | head -5' });
    await decide(reader, HOST, { type: 'shell', command: 'rm -rf /var/lib/data' });
    await decide(reader, CLUSTER, { type: 'kubernetes', method: 'GET', path: '/api/v1/namespaces/prod/pods' });
    await decide(writer, CLUSTER, { type: 'kubernetes', method: 'DELETE', path: '/api/v1/namespaces/prod/pods/web-1' });
    await decide(reader, API, { type: 'http', method: 'GET', path: '/v1/invoices', query: 'limit=5', headers: { authorization: 'Bearer secret', 'user-agent': 'agent/1' } });
    // SSH file operations and port forwarding: allowed, denied, unreadable.
    await decide(reader, HOST, { type: 'file', protocol: 'sftp', operation: 'read', path: 'app.log', cwd: '/var/log' });
    await decide(writer, HOST, { type: 'file', protocol: 'sftp', operation: 'rename', path: '/srv/a', target_path: '/srv/b' });
    await decide(reader, HOST, { type: 'file', protocol: 'sftp', operation: 'read', path: '/srv/../etc/shadow' });
    await decide(reader, HOST, { type: 'network', protocol: 'ssh', direction: 'outbound', host: '0x7f.1', port: 5432 });
    await decide(writer, HOST, { type: 'network', protocol: 'ssh', direction: 'inbound', transport: 'unix', socket_path: '/run/x.sock' });
    await decide(writer, API, { type: 'http', method: 'POST', path: '/v1/refunds' });
    // MCP requests through the gateway: a tool call with its SQL analysed, a list, a resource, a server's request.
    await decide(reader, MCP_DB, { type: 'mcp', method: 'tools/call', tool: 'query', arguments: { sql: 'SELECT email FROM users' }, annotations: { readOnlyHint: false } });
    await decide(reader, MCP_DB, { type: 'mcp', method: 'tools/call', tool: 'list_tables', arguments: {}, annotations: { readOnlyHint: true } });
    await decide(reader, MCP_DB, { type: 'mcp', method: 'tools/list', tools: [{ name: 'query' }, { name: 'execute', annotations: { destructiveHint: true } }] });
    await decide(reader, MCP_DB, { type: 'mcp', method: 'resources/read', uri: 'file:///etc/passwd' });
    await decide(reader, MCP_DB, { type: 'mcp', method: 'sampling/createMessage', direction: 'to_client', params: { messages: [] } });
    // OPA's Data API.
    assert.equal(await post(pdp, '/v1/data/portcullis/no_such_rule', { input: {} }), 200);

    // Approvals: approved then executed, denied, and (below) expired.
    const approved = await requestApproval(pdp, deleteOrder(writer, 7));
    assert.equal((await vote(pdp.url, alice, approved.id, 'approve', 'ticket OPS-42')).status, 200);
    assert.equal((await pdp.decide({ ...deleteOrder(writer, 7), approval_id: approved.id })).body.effect, 'allow');
    const denied = await requestApproval(pdp, deleteOrder(human, 8));
    assert.equal((await vote(pdp.url, bob, denied.id, 'deny', 'not during the freeze')).status, 200);

    // Sessions: SQL (its statements under the decisions the PDP issued), shell and Kubernetes.
    const sqlSession = 'sess-sql';
    const sqlStatements: Array<readonly [Json, string]> = [];
    for (const text of ['SELECT id FROM orders', 'SELECT total FROM orders WHERE id = 7', 'SELECT count(*) FROM orders', 'SELECT email FROM users']) {
      const { body } = await pdp.decide({ subject_token: reader, resource: PROD_DB, action: { type: 'sql', sql: text }, session: { id: sqlSession, client_addr: '10.0.0.7:51234' } });
      assert.equal(body.effect, 'allow', text);
      sqlStatements.push([{ text, kind: 'select' }, body.decision_id as string]);
    }
    const unchecked = (texts: readonly Json[]) => texts.map((text) => [text, randomUUID()] as const);
    const sessions = [
      sessionBatches('sql', PROD_DB, sqlSession, reader, sqlStatements),
      sessionBatches('mcp', MCP_DB, 'sess-mcp', undefined, unchecked([
        { text: 'list_tables {}', method: 'tools/call' }, { text: 'query {"sql":"SELECT 1"}', method: 'tools/call' },
        { text: 'resources/read file:///srv/a.txt', method: 'resources/read' }, { text: 'describe_table {"table":"orders"}', method: 'tools/call' },
      ])),
      sessionBatches('shell', HOST, 'sess-shell', undefined, unchecked([{ text: 'uptime' }, { text: 'ls /tmp' }, { text: 'cat /etc/hostname' }, { text: 'df -h' }])),
      sessionBatches('kubernetes', CLUSTER, 'sess-kube', undefined, unchecked([
        { text: 'GET /api/v1/pods', method: 'GET', path: '/api/v1/pods' }, { text: 'GET /api/v1/nodes', method: 'GET', path: '/api/v1/nodes' },
        { text: 'DELETE /api/v1/namespaces/prod/pods/web-1', method: 'DELETE', path: '/api/v1/namespaces/prod/pods/web-1' }, { text: 'GET /healthz', method: 'GET', path: '/healthz' },
      ])),
    ];
    for (const events of sessions.flat()) {
      const status = await post(pdp, '/v1/sessions/events', { events });
      assert.equal(status, 202, JSON.stringify(events[0]));
    }
    // An interactive shell's recording chunk (asciicast v2), with bytes that are not UTF-8.
    const chunk = {
      event: 'session.recording', event_id: randomUUID(), time: new Date(Date.UTC(2026, 11, 6, 12, 0, 1)).toISOString(),
      session: { id: 'sess-shell', client_addr: '10.0.0.7:51234' }, protocol: 'shell', resource: HOST, decision_id: randomUUID(),
      recording: { format: 'asciicast-v2', seq: 0, header: { version: 2, width: 80, height: 24, env: { TERM: 'xterm' } }, events: [[0, 'o', '$ '], [0.5, 'i', 'ls\r'], [0.52, 'o', 'a\udcff\r\n'], [1, 'r', '100x30']], final: true },
    };
    assert.equal(await post(pdp, '/v1/sessions/events', { events: [chunk] }), 202);
    running.delete(pdp);
    await pdp.close({ keepState: true });

    // Expiry: a PDP whose approvals live one second.
    const expiring = await startTestPdp({ PORTCULLIS_APPROVAL_MAX_TTL_SECONDS: '1', PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    running.add(expiring);
    stateDirs.push(expiring.stateDir);
    const slow = await expiring.token({ sub: 'agent:slow', roles: ['writer'] });
    const { id } = await requestApproval(expiring, deleteOrder(slow, 21));
    assert.equal((await longPoll(expiring.url, expiring.pepToken, id, 10)).body.approval.status, 'expired');
    running.delete(expiring);
    await expiring.close({ keepState: true });

    const files = stateDirs.flatMap((dir) => STREAMS.map((stream) => join(dir, 'audit', `${stream}.jsonl`))).filter((file) => existsSync(file));
    report = validateOcsf(files);
    all = files.filter((file) => !file.endsWith('digests.jsonl')).flatMap(records);
    digests = files.filter((file) => file.endsWith('digests.jsonl')).flatMap(records);
  });
  after(async () => {
    for (const pdp of running) await pdp.close({ keepState: true });
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  });

  test('the records cover every kind: decisions of each effect and action type, session events, approval transitions', () => {
    const body = (record: Json): Json => auditBodyOf(record) as Json;
    const decisions = all.filter((record) => body(record).event === 'decision');
    assert.deepEqual(new Set(decisions.map((record) => body(record).effect)), new Set(['allow', 'deny', 'approval_required']));
    assert.deepEqual(new Set(decisions.map((record) => body(record).action.type)), new Set(['sql', 'connect', 'shell', 'kubernetes', 'http', 'file', 'network', 'mcp']));
    assert.ok(decisions.some((record) => (body(record).obligations?.mask ?? []).length > 0), 'a masked allow');
    const events = new Set(all.map((record) => body(record).event));
    for (const event of ['bundle.activated', 'data-query', 'session.start', 'session.statement', 'session.statements', 'session.recording', 'session.end',
      'approval.requested', 'approval.approved', 'approval.denied', 'approval.executed', 'approval.expired']) {
      assert.ok(events.has(event), `no ${event} record`);
    }
    assert.deepEqual(new Set(all.map((record) => record.class_uid)), new Set([6005, 6003, 1007, 3005, 3004]));
  });

  test('every record is valid and clean: no error, no warning, no metadata.uid twice', () => {
    const checked = Object.values(report.perClass).reduce((sum, each) => sum + each.checked, 0);
    assert.equal(checked, all.length);
    for (const [name, each] of Object.entries(report.perClass)) {
      assert.deepEqual(each.problems.map((problem) => `${problem.level} ${problem.code} @ ${problem.path}: ${problem.examples[0]}`), [], `class ${name}`);
      assert.equal(each.clean, each.checked, `class ${name}`);
    }
    assert.deepEqual(report.duplicateUids, {});
    // Only the digests stream holds records that are not OCSF events: signed digests and checkpoints.
    assert.deepEqual(Object.keys(report.notOcsf).map((file) => file.split('/').at(-1)), stateDirs.map(() => 'digests.jsonl'));
  });

  test('every record has observables; a record spanning a time has duration = end_time - start_time; query_time is a timestamp', () => {
    for (const record of all) {
      const names = (record.observables ?? []).map((observable: Json) => observable.name);
      assert.ok(names.length > 0, `no observables in ${record.metadata.event_code} ${record.metadata.uid}`);
      if (record.actor?.user?.name) assert.ok(names.includes('actor.user.name'), `${record.metadata.event_code}: actor.user.name`);
      if (record.src_endpoint?.ip) assert.ok(names.includes('src_endpoint.ip'), `${record.metadata.event_code}: src_endpoint.ip`);
      if (record.start_time !== undefined && record.end_time !== undefined) {
        assert.equal(record.duration, record.end_time - record.start_time, `${record.metadata.event_code} ${record.metadata.uid}`);
      }
      if (record.query_info?.query_time !== undefined) assert.ok(record.query_info.query_time >= Date.UTC(2026, 0, 1), 'query_time is epoch ms');
    }
  });

  test('every record conforms to the audit record schema of @portcullis/contract (its class\'s), digests and checkpoints to theirs', () => {
    for (const record of all) {
      const schema = AUDIT_RECORD_CLASSES[record.class_uid as keyof typeof AUDIT_RECORD_CLASSES];
      assert.ok(schema, `no contract schema for class ${record.class_uid}`);
      const reading = contractValidator(schema).read(record, 'record');
      assert.ok(reading.ok, `${record.metadata.event_code} ${record.metadata.uid}: ${reading.ok ? '' : reading.message}`);
    }
    const digestsValidator = contractValidator(AuditDigestsRecordV1);
    assert.ok(digests.length > 0);
    for (const record of digests) assert.ok(digestsValidator.check(record), JSON.stringify(record));
  });

  test('SQL connect decisions are filed as session starts are: Datastore Activity Connect', () => {
    const connect = all.find((record) => (auditBodyOf(record) as Json).action?.type === 'connect' && (auditBodyOf(record) as Json).resource.type === 'postgres');
    const start = all.find((record) => record.metadata.event_code === 'session.start' && (auditBodyOf(record) as Json).protocol === 'sql');
    assert.deepEqual([connect?.class_uid, connect?.activity_id, connect?.type_name], [6005, 3, 'Datastore Activity: Connect']);
    assert.deepEqual([start?.class_uid, start?.activity_id, start?.type_name], [6005, 3, 'Datastore Activity: Connect']);
  });

  test('the trail still verifies: hash chains, signed digests and checkpoints', async () => {
    for (const dir of stateDirs) {
      const { code, stdout } = await auditCli(dir, 'verify', '--json');
      assert.equal(code, 0, stdout);
      assert.equal((JSON.parse(stdout) as { ok: boolean }).ok, true);
    }
  });
});
