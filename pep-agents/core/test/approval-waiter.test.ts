import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import {
  ApprovalWaiter,
  approvalNotice,
  HttpPdpTransport,
  PdpDecisionClient,
  refusalFor,
  type ApprovalStatusV1,
  type DecisionAnswer,
  type DecisionRequest,
} from '../src/index.ts';
import { sql } from './support/decision-requests.ts';
import { deadPort } from './support/fault-servers.ts';
import { eventually } from '../../../test/support/eventually.ts';

const codes = (answer: DecisionAnswer) => answer.reasons.map((reason) => reason.code);

describe('the approval waiter holds a command until a person decides, on a real PDP', () => {
  let pdp: TestPdp;
  let transport: HttpPdpTransport;
  let client: PdpDecisionClient;
  let waiter: ApprovalWaiter;
  let writer: string;
  let approver: string;
  let nextOrder = 100;

  before(async () => {
    // Approvals live 4 s here, so the expiry case ends quickly.
    pdp = await startTestPdp({ PORTCULLIS_APPROVAL_MAX_TTL_SECONDS: '4' });
    transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    client = new PdpDecisionClient(transport);
    waiter = new ApprovalWaiter(transport, client, { pollSeconds: 10 });
    writer = await pdp.token({ sub: 'agent:billing-bot', roles: ['reader', 'writer'] });
    approver = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
  });
  after(async () => {
    transport.close();
    await pdp.close();
  });

  /** A production write the starter policy holds for one approver. */
  async function heldWrite(): Promise<{ request: DecisionRequest; answer: DecisionAnswer }> {
    const request = sql(writer, `DELETE FROM orders WHERE id = ${nextOrder++}`);
    const answer = await client.decide(request);
    assert.equal(answer.effect, 'approval_required', JSON.stringify(answer.reasons));
    assert.ok(answer.approval?.id);
    return { request, answer };
  }

  async function vote(id: string, verdict: 'approve' | 'deny', reason: string): Promise<void> {
    const response = await fetch(`${pdp.url}/v1/approvals/${id}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict, reason }),
    });
    assert.equal(response.status, 200, await response.text());
  }

  /** Resolves once the PDP holds a long poll open (the waiter is mid-wait). */
  async function whenWaiting(): Promise<void> {
    await eventually('the PDP holds a waiting approval poll', () => pdp.pdp.approvals.waiting > 0, { intervalMs: 10 });
  }

  it('passes an answer that needs no approval through untouched', async () => {
    const request = sql(writer, 'SELECT id FROM orders WHERE id = 1');
    const answer = await client.decide(request);
    assert.equal(answer.effect, 'allow');
    assert.equal(await waiter.waitAndDecide(request, answer), answer);
  });

  it('tells the client which approval it waits for and where to approve it', async () => {
    const { answer } = await heldWrite();
    const notice = approvalNotice(answer, 300);
    assert.ok(notice?.includes(answer.approval!.id));
    assert.ok(notice?.includes('waiting up to 300 s'));
    assert.equal(refusalFor(answer)?.kind, 'approval-pending');
  });

  it('once approved, asks again with the approval and returns the PDP allow', async () => {
    const { request, answer } = await heldWrite();
    const updates: ApprovalStatusV1[] = [];
    const waiting = waiter.waitAndDecide(request, answer, { onUpdate: (status) => updates.push(status) });
    await whenWaiting();
    await vote(answer.approval!.id, 'approve', 'ticket OPS-1');
    const final = await waiting;
    assert.equal(final.effect, 'allow');
    assert.equal(final.source, 'pdp');
    assert.notEqual(final.decision_id, answer.decision_id);
    assert.equal(codes(final)[0], 'approval-granted');
    assert.deepEqual(updates.map((update) => update.status), ['approved']);
    assert.equal(updates[0]!.decisions[0]?.reason, 'ticket OPS-1');

    // The approval was consumed: presenting it again is refused by the PDP.
    const again = await client.decide({ ...request, approval_id: answer.approval!.id });
    assert.equal(again.effect, 'deny');
    assert.deepEqual(codes(again), ['approval-already-used']);
  });

  it('an approver saying no ends in a deny that carries their reason', async () => {
    const { request, answer } = await heldWrite();
    const waiting = waiter.waitAndDecide(request, answer);
    await whenWaiting();
    await vote(answer.approval!.id, 'deny', 'not during the freeze');
    const final = await waiting;
    assert.equal(final.effect, 'deny');
    assert.deepEqual(codes(final), ['approval-denied']);
    assert.equal(final.decision_id, answer.decision_id);
    const refusal = refusalFor(final)!;
    assert.equal(refusal.kind, 'approval-refused');
    assert.ok(refusal.message.includes('not during the freeze'));
  });

  it('stops at its own bound with approval-timeout while nobody decides', async () => {
    const { request, answer } = await heldWrite();
    const final = await waiter.waitAndDecide(request, answer, { maxWaitMs: 1000 });
    assert.equal(final.effect, 'deny');
    assert.deepEqual(codes(final), ['approval-timeout']);
    assert.equal(refusalFor(final)?.kind, 'approval-pending');
  });

  it('ends with approval-expired when the approval expires first', async () => {
    const { request, answer } = await heldWrite();
    const updates: string[] = [];
    const final = await waiter.waitAndDecide(request, answer, { onUpdate: (status) => updates.push(status.status) });
    assert.equal(final.effect, 'deny');
    assert.deepEqual(codes(final), ['approval-expired']);
    assert.deepEqual(updates, ['expired']);
    assert.equal(refusalFor(final)?.kind, 'approval-refused');
  });

  it('stops waiting when the client goes away', async () => {
    const { request, answer } = await heldWrite();
    const abort = new AbortController();
    const waiting = waiter.waitAndDecide(request, answer, { signal: abort.signal });
    await whenWaiting();
    abort.abort();
    const final = await waiting;
    assert.deepEqual(codes(final), ['approval-cancelled']);
    assert.equal(refusalFor(final)?.kind, 'cancelled');
  });

  it('gives up with approval-wait-failed when the PDP cannot be reached', async () => {
    const { request, answer } = await heldWrite();
    const nowhere = new HttpPdpTransport({ url: `http://127.0.0.1:${await deadPort()}`, pepToken: pdp.pepToken });
    try {
      const stranded = new ApprovalWaiter(nowhere, new PdpDecisionClient(nowhere), { retryDelayMs: 10, maxConsecutiveFailures: 2 });
      const final = await stranded.waitAndDecide(request, answer);
      assert.equal(final.effect, 'deny');
      assert.deepEqual(codes(final), ['approval-wait-failed']);
      assert.equal(refusalFor(final)?.kind, 'unavailable');
    } finally {
      nowhere.close();
    }
  });

  it('refuses an approval_required answer that names no approval', async () => {
    const { request, answer } = await heldWrite();
    const { approval: _dropped, ...withoutApproval } = answer;
    const final = await waiter.waitAndDecide(request, withoutApproval);
    assert.deepEqual(codes(final), ['approval-wait-failed']);
  });
});
