// Adversarial review of `portcullis audit replay` (issue 15): an insider who can write the trail
// store rewrites a decision's answer and puts the old one under `policy_outcome`, the member a
// replay compares with policy. The replay must name every such record, not count it re-verified.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deleteOrder, readOrders, requestApproval, vote } from '../approvals/approval-fixtures.ts';
import { auditCli } from '../support/audit-cli.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { auditBodyOf } from '@portcullis/pdp';

type Body = Record<string, any>;
const bodyOf = (record: Body): Body => auditBodyOf(record) as Body;

describe('adversary: replay of a record whose answer was rewritten under a policy_outcome naming the old one', () => {
  let pdp: TestPdp;
  let work: string;
  const ids: Record<string, string> = {};

  before(async () => {
    pdp = await startTestPdp();
    work = mkdtempSync(join(tmpdir(), 'portcullis-adversary-replay-'));
    const reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
    const writer = await pdp.token({ sub: 'agent-writer', roles: ['reader', 'writer'] });
    const approver = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const answer = async (name: string, request: unknown, effect: string): Promise<void> => {
      const { body } = await pdp.decide(request);
      assert.equal(body.effect, effect, `${name}: ${JSON.stringify(body)}`);
      ids[name] = body.decision_id as string;
    };
    await answer('denied', deleteOrder(reader), 'deny');
    await answer('masked', { ...readOrders(reader), action: { type: 'sql', sql: 'SELECT id, email FROM users' } }, 'allow');
    await answer('unverified', readOrders('not-a-token'), 'deny');
    const { id } = await requestApproval(pdp, deleteOrder(writer, 9));
    assert.equal((await vote(pdp.url, approver, id, 'approve')).status, 200);
    await answer('approved', { ...deleteOrder(writer, 9), approval_id: id }, 'allow');
    await pdp.pdp.flushAudit();
  });
  after(async () => {
    await pdp.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** A copy of the trail with one decision record rewritten (its chain link left as it was). */
  function forged(name: string, edit: (body: Body) => void): string {
    const dir = join(work, name);
    cpSync(join(pdp.stateDir, 'audit'), dir, { recursive: true });
    const file = join(dir, 'decisions.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    let found = false;
    const rewritten = lines.map((line) => {
      if (line.trim() === '') return line;
      const record = JSON.parse(line) as Body;
      if (bodyOf(record).decision_id !== ids[name]) return line;
      found = true;
      // The forger writes the body back whole, as a record written before bodies were stored once.
      const body = bodyOf(record);
      edit(body);
      record.unmapped.portcullis = body;
      return JSON.stringify(record);
    });
    assert.ok(found, `decision ${name} is in the trail`);
    writeFileSync(file, rewritten.join('\n'));
    return dir;
  }

  async function replay(dir: string): Promise<{ code: number; stdout: string }> {
    return auditCli(pdp.stateDir, 'replay', '--dir', dir, '--bundles', join(pdp.stateDir, 'bundles'));
  }

  it('the run as recorded re-verifies, the unverified caller and the consumed approval included', async () => {
    const run = await replay(join(pdp.stateDir, 'audit'));
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /decisions re-verified: 5 of 5/);
  });

  const forgeries: Array<[string, string, (body: Body) => void]> = [
    ['a deny rewritten into an allow, the deny kept as policy_outcome', 'denied', (body) => {
      body.policy_outcome = { effect: body.effect, reasons: body.reasons };
      body.effect = 'allow';
      body.reasons = [];
    }],
    ['an allow whose masks were dropped, the masks kept as policy_outcome', 'masked', (body) => {
      assert.ok(body.obligations.mask.length > 0, 'the recorded allow masks users.email');
      body.policy_outcome = { effect: 'allow', obligations: body.obligations };
      body.obligations = { ...body.obligations, mask: [] };
    }],
    ['an unverified caller\'s deny rewritten into an allow', 'unverified', (body) => {
      body.policy_outcome = { effect: 'allow', reasons: [] };
      body.effect = 'allow';
      body.reasons = [];
    }],
    ['an allow over an approval that names no approval consumed', 'approved', (body) => {
      delete body.approval;
    }],
    ['an allow over an approval with masks dropped from what policy obliged', 'approved', (body) => {
      body.policy_outcome.obligations = { mask: [{ table: 'orders', column: 'total', strategy: 'redact' }], record: true };
    }],
  ];
  for (const [title, name, edit] of forgeries) {
    it(`${title}: replay names it and fails`, async () => {
      const run = await replay(forged(name, edit));
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stdout, /decisions re-verified: 4 of 5/);
      assert.ok(run.stdout.includes(`decision ${ids[name]}`), run.stdout);
      assert.match(run.stdout, /its answer is not policy's/);
    });
  }
});
