import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { deleteOrder, ORDERS_DB, requestApproval } from '../approvals/approval-fixtures.ts';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { sessionEventBodies } from '../support/session-records.ts';

const WEB_1 = { type: 'ssh', name: 'web-1', environment: 'production' };
const ANALYTICS = { type: 'postgres', name: 'analytics-db', environment: 'staging' };

async function post(url: string, path: string, token: string, body: unknown, method = 'POST'): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, any>) };
}

/** A PEP credential fronts the resources its token names; the PDP answers 403 for any other. */
describe('a PEP credential acts only for the resources it fronts', () => {
  let pdp: TestPdp;
  let agent: string;
  let ordersPep: string;
  before(async () => {
    pdp = await startTestPdp();
    agent = await pdp.token({ sub: 'agent-7', roles: ['reader', 'writer', 'dba'] });
    ordersPep = await pdp.pepTokenFor(['orders-db'], 'pep-orders-db');
  });
  after(() => pdp.close());

  it('the orders-db PEP asking about web-1 is refused with 403 naming the resource, and nothing is decided', async () => {
    const before = (await pdp.auditEvents()).length;
    const { status, body } = await post(pdp.url, '/v1/decisions', ordersPep, { subject_token: agent, resource: WEB_1, action: { type: 'shell', command: 'cat /etc/shadow' } });
    assert.equal(status, 403);
    assert.equal(body.code, 'forbidden');
    assert.match(body.message, /does not front ssh web-1/);
    assert.deepEqual(body.details.resource, { type: 'ssh', name: 'web-1' });
    assert.equal((await pdp.auditEvents()).length, before, 'no decision record for a refused request');
    const own = await post(pdp.url, '/v1/decisions', ordersPep, { subject_token: agent, resource: ORDERS_DB, action: { type: 'sql', sql: 'SELECT 1' } });
    assert.equal(own.status, 200, 'its own resource is decided (control)');
  });

  it('names, globs and types are matched exactly: near misses are refused', async () => {
    const cases: Array<[string[], { type: string; name: string }, number]> = [
      [['orders-db'], { type: 'postgres', name: 'Orders-DB' }, 403],
      [['orders-db'], { type: 'postgres', name: 'orders-db ' }, 403],
      [['orders-db'], { type: 'postgres', name: 'orders-db2' }, 403],
      [['orders-db'], { type: 'postgres', name: 'оrders-db' }, 403], // Cyrillic о
      [['orders-db'], { type: 'ssh', name: 'orders-db' }, 200], // untyped: any type of that name
      [['postgres:orders-db'], { type: 'ssh', name: 'orders-db' }, 403],
      [['postgres:orders-db'], { type: 'postgres', name: 'orders-db' }, 200],
      [['staging-*'], { type: 'postgres', name: 'staging-reports' }, 200],
      [['staging-*'], { type: 'postgres', name: 'production-reports' }, 403],
      [['staging-*'], { type: 'postgres', name: 'xstaging-reports' }, 403],
      [['db-?'], { type: 'postgres', name: 'db-1' }, 200],
      [['db-?'], { type: 'postgres', name: 'db-12' }, 403],
      [['ssh:web-*', 'orders-db'], { type: 'ssh', name: 'web-9' }, 200],
      [['ssh:web-*', 'orders-db'], { type: 'kubernetes', name: 'web-9' }, 403],
      [['web.1'], { type: 'ssh', name: 'webx1' }, 403], // no regex semantics
    ];
    for (const [resources, resource, expected] of cases) {
      const pep = await pdp.pepTokenFor(resources, 'pep-variant');
      const { status } = await post(pdp.url, '/v1/decisions', pep, { subject_token: agent, resource: { ...resource, environment: 'production' }, action: { type: 'sql', sql: 'SELECT 1' } });
      assert.equal(status, expected, `${JSON.stringify(resources)} → ${resource.type}:${resource.name}`);
    }
  });

  it('a PEP token with no binding, an empty one or a malformed one is refused on every PEP route', async () => {
    const unbound = [await pdp.token({ sub: 'pep-legacy', roles: ['pep', 'approver'] })];
    // The dev issuer refuses to mint a bad binding; another issuer might.
    for (const value of [[], 42, [''], [' '], ['a\nb'], { name: 'orders-db' }, [['orders-db']], ':orders-db', null]) unbound.push(await mintRaw(pdp, value));
    for (const token of unbound) {
      for (const [path, body] of [
        ['/v1/decisions', { subject_token: agent, resource: ORDERS_DB, action: { type: 'sql', sql: 'SELECT 1' } }],
        ['/v1/sql/outputs', { sql: 'SELECT 1' }],
        ['/v1/sessions/events', { events: [{ event: 'session.start', event_id: randomUUID(), time: new Date().toISOString(), session: { id: 's' }, protocol: 'sql', resource: ORDERS_DB }] }],
        ['/v1/data/portcullis/decision', { input: {} }],
      ] as const) {
        const { status, body: answer } = await post(pdp.url, path, token, body);
        assert.equal(status, 403, `${path}`);
        assert.match(answer.message, /portcullis_resources/);
      }
    }
  });

  it('the SQL analysis and the Data API refuse a resource the PEP does not front', async () => {
    const outputs = await post(pdp.url, '/v1/sql/outputs', ordersPep, { sql: 'SELECT 1 AS one', resource: { type: 'ssh', name: 'web-1' } });
    assert.equal(outputs.status, 403);
    assert.match(outputs.body.message, /web-1/);
    assert.equal((await post(pdp.url, '/v1/sql/outputs', ordersPep, { sql: 'SELECT 1 AS one', resource: { type: 'postgres', name: 'orders-db' } })).status, 200);
    assert.equal((await post(pdp.url, '/v1/sql/outputs', ordersPep, { sql: 'SELECT 1 AS one' })).status, 200);

    const foreign = await post(pdp.url, '/v1/data/portcullis/decision', ordersPep, { input: { resource: WEB_1, action: { type: 'shell', command: 'id' } } });
    assert.equal(foreign.status, 403);
    const odd = await post(pdp.url, '/v1/data/portcullis/decision', ordersPep, { input: { resource: { type: 'postgres', name: ['orders-db'] } } });
    assert.equal(odd.status, 403, 'a name that is not a string is no name the PEP fronts');
    const own = await post(pdp.url, '/v1/data/portcullis/decision', ordersPep, { input: { resource: ORDERS_DB } });
    assert.equal(own.status, 200);
  });

  it('a PEP reads and waits on approvals for its own resources only, over HTTP and the socket', async () => {
    const writer = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const { id } = await requestApproval(pdp, deleteOrder(writer, 601));
    const analyticsPep = await pdp.pepTokenFor(['analytics-db'], 'pep-analytics-db');
    for (const path of [`/v1/approvals/${id}`, `/v1/approvals/${id}?wait=5`]) {
      const refused = await post(pdp.url, path, analyticsPep, undefined, 'GET');
      assert.equal(refused.status, 403, path);
      assert.equal(refused.body.approval, undefined);
    }
    assert.equal((await post(pdp.url, `/v1/approvals/${id}`, ordersPep, undefined, 'GET')).status, 200);

    const socket = await openApprovalSocket(pdp.url, { token: analyticsPep, via: 'header' });
    await socket.next((m) => m.type === 'welcome');
    socket.send({ type: 'wait', request_id: 'w', approval_id: id });
    const error = await socket.next((m) => m.type === 'error' && m.request_id === 'w');
    assert.equal(error.code, 'forbidden');
    socket.send({ type: 'subscribe' });
    assert.equal((await socket.next((m) => m.type === 'error')).code, 'forbidden', 'a PEP does not watch the queue');
    assert.equal(socket.messages.filter((m) => m.type === 'approval').length, 0);
    await socket.close();

    const own = await openApprovalSocket(pdp.url, { token: ordersPep, via: 'header' });
    await own.next((m) => m.type === 'welcome');
    own.send({ type: 'wait', request_id: 'w', approval_id: id });
    assert.equal((await own.next((m) => m.type === 'approval')).final, false);
    await own.close();
  });
});

/** Mints a PEP token whose binding claim holds exactly `value`, as a careless issuer might. */
async function mintRaw(pdp: TestPdp, value: unknown): Promise<string> {
  const { SignJWT, importJWK } = await import('jose');
  const { readFileSync } = await import('node:fs');
  const directory = pdp.pdp.devIssuer!.directory;
  const jwk = JSON.parse(readFileSync(`${directory}/private-key.jwk`, 'utf8'));
  const kid = (JSON.parse(readFileSync(`${directory}/jwks.json`, 'utf8')) as { keys: { kid: string }[] }).keys[0]!.kid;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: ['pep'], kind: 'agent', portcullis_resources: value })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(pdp.pdp.devIssuer!.issuer).setSubject('pep-bad').setAudience('portcullis')
    .setIssuedAt(now).setExpirationTime(now + 300)
    .sign(await importJWK(jwk, 'ES256'));
}

/** What a PEP says about its sessions is checked where the PDP can check it. */
describe('session events are checked, not taken on trust', () => {
  let pdp: TestPdp;
  let agentA: string;
  let agentB: string;
  let ordersPep: string;
  before(async () => {
    pdp = await startTestPdp();
    agentA = await pdp.token({ sub: 'agent-a', roles: ['reader'] });
    agentB = await pdp.token({ sub: 'agent-b', roles: ['reader'] });
    ordersPep = await pdp.pepTokenFor(['orders-db', 'analytics-db'], 'pep-orders-db');
  });
  after(() => pdp.close());

  const decide = async (subject: string, resource: object = ORDERS_DB, pep = ordersPep, sql = 'SELECT id FROM orders WHERE id = 1', session?: string): Promise<string> => {
    const { status, body } = await pdp.decide({ subject_token: subject, resource, action: { type: 'sql', sql }, ...(session ? { session: { id: session } } : {}) }, pep);
    assert.equal(status, 200);
    return body.decision_id as string;
  };
  const statement = (decisionId: string, extra: Record<string, unknown> = {}) => ({
    event: 'session.statement', event_id: randomUUID(), time: new Date().toISOString(), subject_token: agentA,
    session: { id: `s-${randomUUID()}` }, protocol: 'sql', resource: ORDERS_DB,
    statement: { text: 'SELECT id FROM orders WHERE id = 1', kind: 'select' }, decision_id: decisionId, status: 'success', duration_ms: 1, rows: 1,
    ...extra,
  });
  const postEvents = (events: unknown[], pep = ordersPep) => post(pdp.url, '/v1/sessions/events', pep, { events });
  const recorded = async (eventId: string) => sessionEventBodies(await pdp.auditEvents('sessions')).find((body) => body.event_id === eventId);

  it('a legit statement is recorded with its decision verified and the PDP receive time', async () => {
    const event = statement(await decide(agentA));
    const { status } = await postEvents([event]);
    assert.equal(status, 202);
    const body = await recorded(event.event_id);
    assert.equal(body?.decision_verified, true);
    assert.ok(Math.abs(Date.parse(body!.received_at as string) - Date.now()) < 60_000);
  });

  it('a backdated event keeps its claimed time and gets the PDP receive time beside it', async () => {
    const backdated = '2020-01-01T00:00:00.000Z';
    const start = { event: 'session.start', event_id: randomUUID(), time: backdated, subject_token: agentA, session: { id: 's-back' }, protocol: 'sql', resource: ORDERS_DB };
    const run = [statement(await decide(agentA), { time: backdated, session: { id: 's-back' } }), statement(await decide(agentA), { time: backdated, session: { id: 's-back' } })];
    const postedAt = Date.now();
    assert.equal((await postEvents([start, ...run])).status, 202);
    for (const event of [start, ...run]) {
      const body = await recorded(event.event_id);
      assert.equal(body?.time, backdated, 'the PEP claim is kept');
      assert.ok(Date.parse(body!.received_at as string) >= postedAt - 1000, 'the PDP stamped its own time');
    }
    const raw = (await pdp.auditEvents('sessions')).find((record) => JSON.stringify(record).includes(start.event_id))!;
    assert.equal((raw.metadata as { logged_time: number }).logged_time >= postedAt - 1000, true, 'OCSF logged_time is the receive time');
  });

  it('refuses events naming a decision it did not issue to this PEP, for this resource and principal, and records nothing of the batch', async () => {
    const issued = await decide(agentA);
    const [uuid, issuedAt, grant, mac] = issued.split('.') as [string, string, string, string];
    const otherPep = await pdp.pepTokenFor(['orders-db'], 'pep-other');
    const replica = await startTestPdp();
    try {
      const forged: Array<[string, Record<string, unknown>]> = [
        ['an invented id', statement('dec-invented-42')],
        ['a plain UUID', statement(randomUUID())],
        ['a well-formed id with a made-up MAC', statement(`${randomUUID()}.${issuedAt}.a.${'A'.repeat(22)}`)],
        ['a real id with its MAC altered', statement(`${uuid}.${issuedAt}.${grant}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`)],
        ['a real id with its time altered', statement(`${uuid}.${Number(issuedAt) - 3600}.${grant}.${mac}`)],
        ['a real id with another uuid', statement(`${randomUUID()}.${issuedAt}.${grant}.${mac}`)],
        ['a real id with its grant altered', statement(`${uuid}.${issuedAt}.${grant === 'a' ? 'r9999999999' : 'a'}.${mac}`)],
        ['a decision that denied', statement(await decide(agentA, ORDERS_DB, ordersPep, 'DELETE FROM orders'))],
        ['a decision that asked for approval', statement(await decide(await pdp.token({ sub: 'agent-a', roles: ['writer'] }), ORDERS_DB, ordersPep, 'DELETE FROM orders WHERE id = 7'), { subject_token: await pdp.token({ sub: 'agent-a', roles: ['writer'] }) })],
        ['a decision of another session', statement(await decide(agentA, ORDERS_DB, ordersPep, undefined, 's-other'), { session: { id: 's-mine' } })],
        ['a decision for another principal', statement(issued, { subject_token: agentB })],
        ['a decision for another resource', statement(await decide(agentA, ANALYTICS))],
        ['a decision for another environment', statement(issued, { resource: { ...ORDERS_DB, environment: 'staging' } })],
        ['a decision issued to another PEP', statement(await decide(agentA, ORDERS_DB, otherPep))],
        ['a decision of a PDP with another key', statement((await replica.decide({ subject_token: await replica.token({ sub: 'agent-a', roles: ['reader'] }), resource: ORDERS_DB, action: { type: 'sql', sql: 'SELECT 1' } }, await replica.pepTokenFor(['orders-db'], 'pep-orders-db'))).body.decision_id as string)],
      ];
      const oneShot = await decide(agentA, ORDERS_DB, ordersPep, 'SHOW work_mem');
      assert.match(oneShot, /\.a\./, 'a utility statement is allowed without reuse');
      forged.push(['reuse claimed of a decision that granted none', statement(oneShot, { decision_reused: true })]);
      for (const [what, event] of forged) {
        const good = statement(issued);
        const { status, body } = await postEvents([good, event]);
        assert.equal(status, 403, what);
        assert.equal(body.code, 'forbidden', what);
        assert.equal(body.details.field, what.startsWith('reuse claimed') ? 'events[1].decision_reused' : 'events[1].decision_id', what);
        if (/denied|asked for approval/.test(what)) assert.match(body.message, /allowed nothing/, what);
        assert.match(pdp.logs.at(-1) ?? '', /^session events from pep-orders-db refused \(decision-not-/, `${what}: the refusal is logged`);
        assert.equal(await recorded(good.event_id as string), undefined, `${what}: nothing of the batch is recorded`);
      }
      // The same decisions, claimed as issued, are fine (controls): one statement each, reuse where granted, in the session decided.
      assert.match(issued, /\.r\d+\./, 'a plain SELECT is allowed with statement-shape reuse');
      const inSession = await decide(agentA, ORDERS_DB, ordersPep, undefined, 's-mine');
      assert.equal((await postEvents([statement(issued), statement(issued, { decision_reused: true }), statement(oneShot), statement(inSession, { session: { id: 's-mine' } })])).status, 202);
    } finally {
      await replica.close();
    }
  });

  it('refuses events about a resource the PEP does not front, naming it', async () => {
    const webEvent = { ...statement(await decide(agentA)), resource: WEB_1 };
    const { status, body } = await postEvents([webEvent]);
    assert.equal(status, 403);
    assert.match(body.message, /does not front ssh web-1/);
    const start = { event: 'session.start', event_id: randomUUID(), time: new Date().toISOString(), session: { id: 's-web' }, protocol: 'shell', resource: WEB_1 };
    assert.equal((await postEvents([start])).status, 403);
  });

  it('a replica sharing the decision key verifies the other one\'s decision ids', async () => {
    const replica = await startTestPdp({ PORTCULLIS_DECISION_KEY_FILE: `${pdp.stateDir}/decision-key/key` });
    try {
      const replicaPep = await replica.pepTokenFor(['orders-db'], 'pep-orders-db');
      const event = statement(await decide(agentA), { subject_token: await replica.token({ sub: 'agent-a', roles: ['reader'] }) });
      // The principal is named by issuer and subject: the replica's dev issuer is the same issuer name.
      const { status } = await post(replica.url, '/v1/sessions/events', replicaPep, { events: [event] });
      assert.equal(status, 202);
      const body = sessionEventBodies(await replica.auditEvents('sessions')).find((candidate) => candidate.event_id === event.event_id);
      assert.equal(body?.decision_verified, true);
    } finally {
      await replica.close();
    }
  });

  it('a statement whose principal cannot be verified is recorded, flagged decision_verified: false', async () => {
    const issued = await decide(agentA);
    const anonymous = statement(issued);
    delete (anonymous as Record<string, unknown>).subject_token;
    const unverifiable = statement(issued, { subject_token: `${agentA.slice(0, -4)}AAAA` });
    assert.equal((await postEvents([anonymous, unverifiable])).status, 202);
    for (const event of [anonymous, unverifiable]) {
      const body = await recorded(event.event_id as string);
      assert.equal(body?.decision_verified, false);
      assert.equal((body!.principal as { authenticated: boolean }).authenticated, false);
    }
  });
});
