// The PDP's answers, pushed messages and audit records, as a real PDP sends them, checked
// against the contract's schemas: what a PEP or client written from docs/openapi.json expects is
// what it gets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  approvalAnswerV1Validator,
  auditRecordV1Validator,
  consoleServerMessageV1Validator,
  contractValidator,
  decisionResponseV1Validator,
  ApprovalHistoryV1,
  ApprovalQueuePageV1,
  ErrorV1,
  SqlOutputsResponseV1,
  type ContractReading,
} from '@portcullis/contract';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { deleteOrder, ORDERS_DB, readOrders, requestApproval, vote } from '../approvals/approval-fixtures.ts';

function conforms(validator: { read(value: unknown, root?: string): ContractReading<unknown> }, value: unknown, what: string): void {
  const reading = validator.read(value, what);
  assert.ok(reading.ok, `${what} does not match the contract: ${reading.ok ? '' : reading.message}\n${JSON.stringify(value).slice(0, 2000)}`);
}

describe('the PDP speaks the contract', () => {
  let pdp: TestPdp;
  let agent: string;
  let alice: string;

  before(async () => {
    pdp = await startTestPdp();
    agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  });
  after(() => pdp?.close());

  it('decision answers: allow with masks and enrichment, deny, syntax error, approval_required', async () => {
    const reader = await pdp.token({ sub: 'agent:reader', roles: ['reader'] });
    const bodies = [
      { subject_token: reader, resource: ORDERS_DB, action: { type: 'sql', sql: 'SELECT email FROM users' } },
      readOrders(agent),
      { subject_token: agent, resource: ORDERS_DB, action: { type: 'sql', sql: 'DROP TABLE orders' } },
      { subject_token: agent, resource: ORDERS_DB, action: { type: 'sql', sql: 'SELEC 1' } },
      { subject_token: 'forged', resource: ORDERS_DB, action: { type: 'shell', command: 'ls' } },
      { resource: { type: 'kubernetes', name: 'prod' }, action: { type: 'kubernetes', method: 'get', path: '/api/v1/namespaces/a/pods' } },
      { subject_token: agent, resource: ORDERS_DB, action: { type: 'connect', protocol: 'postgres', database: 'orders' } },
      deleteOrder(agent),
    ];
    const effects = new Set<unknown>();
    for (const body of bodies) {
      const { status, body: answer } = await pdp.decide(body);
      assert.equal(status, 200);
      effects.add(answer.effect);
      conforms(decisionResponseV1Validator, answer, 'answer');
    }
    assert.deepEqual([...effects].sort(), ['allow', 'approval_required', 'deny']);
  });

  it('errors, SQL outputs', async () => {
    const refused = await pdp.decide({ resource: ORDERS_DB, action: { type: 'ftp' } });
    assert.equal(refused.status, 400);
    conforms(contractValidator(ErrorV1), refused.body, 'error');
    const outputs = await fetch(`${pdp.url}/v1/sql/outputs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pdp.pepToken}` },
      body: JSON.stringify({ sql: 'SELECT email, lower(name) FROM users' }),
    });
    assert.equal(outputs.status, 200);
    conforms(contractValidator(SqlOutputsResponseV1), await outputs.json(), 'outputs');
  });

  it('approvals over HTTP and the console socket: records, queue pages, history, pushed messages', async () => {
    const socket = await openApprovalSocket(pdp.url, { token: alice });
    try {
      socket.send({ type: 'subscribe' });
      await socket.next((message) => message.type === 'snapshot');
      const { id } = await requestApproval(pdp, deleteOrder(agent, 41));
      await socket.next((message) => message.type === 'event');
      socket.send({ type: 'get', request_id: 'g1', approval_id: id });
      await socket.next((message) => message.type === 'record');
      const headers = { authorization: `Bearer ${alice}` };
      conforms(contractValidator(ApprovalQueuePageV1), await (await fetch(`${pdp.url}/v1/approvals`, { headers })).json(), 'queue page');
      conforms(approvalAnswerV1Validator, await (await fetch(`${pdp.url}/v1/approvals/${id}`, { headers })).json(), 'approval');
      const voted = await vote(pdp.url, alice, id, 'approve', 'ticket 41');
      assert.equal(voted.status, 200);
      conforms(approvalAnswerV1Validator, voted.body, 'vote answer');
      conforms(contractValidator(ApprovalHistoryV1), await (await fetch(`${pdp.url}/v1/approvals/history`, { headers })).json(), 'history');
      socket.send({ type: 'history', request_id: 'h1' });
      socket.send({ type: 'ping', request_id: 'p1' });
      socket.send({ type: 'nonsense' });
      await socket.next((message) => message.type === 'error');
      await socket.next((message) => message.type === 'pong');
      const kinds = new Set(socket.messages.map((message) => message.type));
      for (const kind of ['welcome', 'snapshot', 'event', 'record', 'history', 'pong', 'error']) assert.ok(kinds.has(kind), `saw ${kind}`);
      for (const message of socket.messages) conforms(consoleServerMessageV1Validator, message, `${message.type} message`);
    } finally {
      await socket.close();
    }
  });

  it('audit records: decisions, sessions and approvals', async () => {
    const posted = await fetch(`${pdp.url}/v1/sessions/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pdp.pepToken}` },
      body: JSON.stringify({ event: 'session.start', event_id: 'e1', time: new Date().toISOString(), session: { id: 's1' }, protocol: 'sql', resource: ORDERS_DB }),
    });
    assert.equal(posted.status, 202);
    for (const stream of ['decisions', 'sessions', 'approvals']) {
      const records = await pdp.auditEvents(stream);
      assert.ok(records.length > 0, `records on ${stream}`);
      for (const record of records) conforms(auditRecordV1Validator, record, `${stream} record`);
    }
  });
});
