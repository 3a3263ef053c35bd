import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadPdpConfig, auditBodyOf } from '@portcullis/pdp';
import { deleteOrder, longPoll, requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

const ANALYTICS = { type: 'postgres', name: 'analytics-db', environment: 'staging' };

/**
 * A PEP sees every token its callers present (the Postgres PEP takes it as the password). Agent
 * and PEP tokens carry the API audience, console sessions their own; neither is accepted where
 * the other belongs, so a PEP holding a person's token cannot vote with it, and a console
 * session neither decides nor acts as a PEP.
 */
describe('agent tokens and console sessions are kept apart by audience', () => {
  let pdp: TestPdp;
  let agent: string;
  before(async () => {
    pdp = await startTestPdp();
    agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
  });
  after(() => pdp.close());

  it('a token accepted as a subject token cannot vote, over HTTP or the socket, whatever its roles', async () => {
    const { id } = await requestApproval(pdp, deleteOrder(agent, 501));
    // What a PEP holds after a person logged in through it: their API-audience token, approver role and all.
    const captured = [
      await pdp.token({ sub: 'alice', roles: ['approver'], kind: 'human' }),
      await pdp.token({ sub: 'bob', roles: ['approver', 'auditor', 'reader'], kind: 'human' }),
      pdp.pepToken,
    ];
    for (const token of captured) {
      const answer = await vote(pdp.url, token, id, 'approve');
      assert.equal(answer.status, 401);
      assert.match(answer.body.message, /token-wrong-audience/);

      const socket = await openApprovalSocket(pdp.url, { token });
      socket.send({ type: 'vote', request_id: 'v', approval_id: id, verdict: 'approve' });
      const welcome = await socket.next((m) => m.type === 'welcome').catch(() => undefined);
      if (welcome === undefined) {
        assert.equal((await socket.closed()).code, 4403, 'an agent token is refused at the socket');
      } else {
        // A PEP may connect to wait, and nothing else.
        assert.equal(welcome.can_watch, false);
        const refused = await socket.next((m) => m.type === 'error' && m.request_id === 'v');
        assert.equal(refused.code, 'forbidden');
        await socket.close();
      }
    }
    const state = await longPoll(pdp.url, pdp.pepToken, id, 0);
    assert.equal(state.body.approval.status, 'pending');
    assert.deepEqual(state.body.approval.decisions, []);

    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    assert.equal((await vote(pdp.url, alice, id, 'approve')).status, 200, 'the console session votes (control)');
  });

  it('an agent token neither watches the queue nor reads history or the evidence report', async () => {
    const auditorAgent = await pdp.token({ sub: 'carol', roles: ['approver', 'auditor'], kind: 'human' });
    for (const path of ['/v1/approvals', '/v1/approvals/history', '/v1/audit/report?format=json']) {
      const response = await fetch(`${pdp.url}${path}`, { headers: { authorization: `Bearer ${auditorAgent}` } });
      assert.equal(response.status, 401, path);
    }
    const auditor = await pdp.consoleToken({ sub: 'carol', roles: ['auditor'], kind: 'human' });
    assert.equal((await fetch(`${pdp.url}/v1/approvals`, { headers: { authorization: `Bearer ${auditor}` } })).status, 200);
    assert.equal((await fetch(`${pdp.url}/v1/audit/report?format=json`, { headers: { authorization: `Bearer ${auditor}` } })).status, 200);
  });

  it("a PEP's credential is no subject token: a decision or a session event with it names no principal, recorded with the reason", async () => {
    const agent = await pdp.token({ sub: 'agent-plain', roles: ['reader'] });
    assert.equal((await pdp.decide({ subject_token: agent, resource: ANALYTICS, action: { type: 'sql', sql: 'SELECT 1' } })).body.effect, 'allow');
    for (const credential of [pdp.pepToken, await pdp.pepTokenFor(['analytics-db'], 'pep-analytics'), await pdp.token({ sub: 'agent-bound', roles: ['reader'], resources: ['analytics-db'] })]) {
      const { status, body } = await pdp.decide({ subject_token: credential, resource: ANALYTICS, action: { type: 'sql', sql: 'SELECT 1' } });
      assert.equal(status, 200);
      assert.equal(body.effect, 'deny');
      assert.equal((body.principal as { authenticated: boolean }).authenticated, false);
      assert.match((body.reasons as { code: string; message: string }[]).find((reason) => reason.code === 'unauthenticated')!.message, /token-pep-credential/);
      const record = (await pdp.auditEvents()).find((candidate) => (candidate.metadata as { uid: string }).uid === body.decision_id);
      assert.equal((auditBodyOf(record) as { principal: { error: string } }).principal.error, 'token-pep-credential');
    }
    // A session event whose subject token is the posting PEP's own: filed, with no principal behind it.
    const posted = await fetch(`${pdp.url}/v1/sessions/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pdp.pepToken}` },
      body: JSON.stringify({ events: [{ event: 'session.start', event_id: randomUUID(), time: new Date().toISOString(), subject_token: pdp.pepToken, session: { id: 's-pep-subject' }, protocol: 'sql', resource: ANALYTICS }] }),
    });
    assert.equal(posted.status, 202);
    const started = (await pdp.auditEvents('sessions')).map((record) => auditBodyOf(record) as Record<string, any>).find((body) => body.session?.id === 's-pep-subject');
    assert.deepEqual(started?.principal, { authenticated: false, error: 'token-pep-credential' });
  });

  it('a console session is no subject token: a decision with it is a deny, recorded as the wrong audience', async () => {
    const consoleSession = await pdp.consoleToken({ sub: 'dana', roles: ['reader', 'writer', 'dba'], kind: 'human' });
    const { status, body } = await pdp.decide({ subject_token: consoleSession, resource: ANALYTICS, action: { type: 'sql', sql: 'SELECT 1' } });
    assert.equal(status, 200);
    assert.equal(body.effect, 'deny');
    assert.ok((body.reasons as { code: string }[]).some((reason) => reason.code === 'unauthenticated'));
    assert.equal((body.principal as { authenticated: boolean }).authenticated, false);
    const record = (await pdp.auditEvents()).find((candidate) => (candidate.metadata as { uid: string }).uid === body.decision_id);
    assert.equal((auditBodyOf(record) as { principal: { error: string } }).principal.error, 'token-wrong-audience');
  });

  it('a console session is no PEP credential on any PEP route', async () => {
    const consoleSession = await pdp.consoleToken({ sub: 'pep-orders-db', roles: ['pep'], resources: ['*'] });
    const bearer = { authorization: `Bearer ${consoleSession}`, 'content-type': 'application/json' };
    const calls: Array<[string, unknown]> = [
      ['/v1/decisions', { subject_token: agent, resource: ANALYTICS, action: { type: 'sql', sql: 'SELECT 1' } }],
      ['/v1/sql/outputs', { sql: 'SELECT 1' }],
      ['/v1/sessions/events', { events: [{ event: 'session.start', event_id: 'e1', time: new Date().toISOString(), session: { id: 's' }, protocol: 'sql', resource: ANALYTICS }] }],
      ['/v1/data/portcullis/decision', { input: {} }],
    ];
    for (const [path, body] of calls) {
      const response = await fetch(`${pdp.url}${path}`, { method: 'POST', headers: bearer, body: JSON.stringify(body) });
      assert.equal(response.status, 401, path);
    }
  });

  it('a token carrying both audiences is refused for both uses', async () => {
    const both = await pdp.token({ sub: 'alice', roles: ['approver', 'writer'], kind: 'human', audience: ['portcullis', 'portcullis-console'] });
    const { id } = await requestApproval(pdp, deleteOrder(agent, 502));
    assert.equal((await vote(pdp.url, both, id, 'approve')).status, 401);
    const { body } = await pdp.decide({ subject_token: both, resource: ANALYTICS, action: { type: 'sql', sql: 'SELECT 1' } });
    assert.equal(body.effect, 'deny');
  });

  it('the console CSP lets the page connect to this PDP only', async () => {
    const policy = (await fetch(`${pdp.url}/console/`)).headers.get('content-security-policy') ?? '';
    const connect = /connect-src ([^;]+)/.exec(policy)?.[1]?.trim();
    assert.equal(connect, "'self'");
  });
});

describe('with a console OIDC client, its ID tokens are console sessions only', () => {
  let pdp: TestPdp;
  before(async () => {
    pdp = await startTestPdp({ PORTCULLIS_CONSOLE_OIDC_CLIENT_ID: 'approver-console' });
  });
  after(() => pdp.close());

  it('an ID token issued to the console client votes, and is refused as a subject token and as a PEP credential', async () => {
    const agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const idToken = await pdp.token({ sub: 'alice', roles: ['approver', 'writer', 'pep'], kind: 'human', audience: 'approver-console', resources: ['*'] });
    const { id } = await requestApproval(pdp, deleteOrder(agent, 503));
    assert.equal((await vote(pdp.url, idToken, id, 'approve')).status, 200);

    const asSubject = await pdp.decide({ subject_token: idToken, resource: ANALYTICS, action: { type: 'sql', sql: 'SELECT 1' } });
    assert.equal(asSubject.body.effect, 'deny');
    const asPep = await pdp.decide({ subject_token: agent, resource: ANALYTICS, action: { type: 'sql', sql: 'SELECT 1' } }, idToken);
    assert.equal(asPep.status, 401);
  });
});

describe('audience configuration', () => {
  it('refuses one audience for both uses', () => {
    assert.throws(() => loadPdpConfig({ PORTCULLIS_CONSOLE_AUDIENCE: 'portcullis' }), (error) => error instanceof ConfigError && /PORTCULLIS_CONSOLE_AUDIENCE/.test(error.message));
    assert.throws(() => loadPdpConfig({ PORTCULLIS_OIDC_AUDIENCE: 'api', PORTCULLIS_CONSOLE_OIDC_CLIENT_ID: 'api' }), (error) => error instanceof ConfigError && /PORTCULLIS_CONSOLE_OIDC_CLIENT_ID/.test(error.message));
  });
});
