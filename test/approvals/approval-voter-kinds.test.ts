// Only humans vote unless policy names other kinds for the approval rule, and every vote, record
// and audit event carries the voter's real kind — through the real PDP, over HTTP and WebSocket.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importJWK, SignJWT, type JWK } from 'jose';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { openApprovalSocket } from '../support/approval-socket-client.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { deleteOrder, requestApproval, vote } from './approval-fixtures.ts';
import { auditBodyOf } from '@portcullis/pdp';

/** A token whose kind claim is what the dev issuer refuses to mint (e.g. "service"), signed by its key. */
async function tokenOfKind(pdp: TestPdp, sub: string, kind: string, roles: string[]): Promise<string> {
  const issuer = pdp.pdp.devIssuer!;
  // Mint one token first: the issuer writes its key files on first use.
  await pdp.token({ sub: 'key-warm-up' });
  const jwk = JSON.parse(readFileSync(join(issuer.directory, 'private-key.jwk'), 'utf8')) as JWK & { kid?: string };
  const key = await importJWK(jwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles, kind })
    .setProtectedHeader({ alg: 'ES256', ...(jwk.kid ? { kid: jwk.kid } : {}), typ: 'JWT' })
    .setIssuer(issuer.issuer).setSubject(sub).setAudience(issuer.consoleAudience)
    .setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 600).setJti(randomUUID())
    .sign(key);
}

async function approvalEvents(pdp: TestPdp, id: string): Promise<Record<string, any>[]> {
  return (await pdp.auditEvents('approvals')).filter((record: any) => (auditBodyOf(record) as any).approval.id === id) as Record<string, any>[];
}

describe('who may vote on an approval (starter policy: humans only)', () => {
  let pdp: TestPdp;
  let agent: string;

  before(async () => {
    pdp = await startTestPdp();
    agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
  });
  after(async () => pdp?.close());

  test('an approver token of kind agent, service or none is refused with kind-not-allowed (403), over HTTP and WebSocket', async () => {
    const { id } = await requestApproval(pdp, deleteOrder(agent, 301));
    const voters = [
      await pdp.consoleToken({ sub: 'bot:auto-approver', roles: ['approver'], kind: 'agent' }),
      await tokenOfKind(pdp, 'svc:ci-approver', 'service', ['approver']),
      await tokenOfKind(pdp, 'svc:no-kind', '', ['approver']),
      await tokenOfKind(pdp, 'svc:shouting', 'HUMAN', ['approver']),
    ];
    for (const token of voters) {
      for (const verdict of ['approve', 'deny'] as const) {
        const refused = await vote(pdp.url, token, id, verdict, 'looks fine');
        assert.equal(refused.status, 403);
        assert.equal(refused.body.code, 'kind-not-allowed');
      }
    }
    const socket = await openApprovalSocket(pdp.url, { token: voters[0]! });
    await socket.next((m) => m.type === 'welcome');
    socket.send({ type: 'vote', request_id: 'v1', approval_id: id, verdict: 'approve', reason: '' });
    const answer = await socket.next((m) => m.type === 'vote_result');
    assert.equal(answer.ok, false);
    assert.equal(answer.code, 'kind-not-allowed');
    await socket.close();

    const record = (await (await fetch(`${pdp.url}/v1/approvals/${id}`, { headers: { authorization: `Bearer ${pdp.pepToken}` } })).json()) as any;
    assert.equal(record.approval.status, 'pending');
    assert.deepEqual(record.approval.decisions, []);
    assert.deepEqual(record.approval.approver_kinds, ['human']);
  });

  test('a human approver\'s vote is recorded as a human\'s, in the record and the OCSF audit event', async () => {
    const { id } = await requestApproval(pdp, deleteOrder(agent, 302));
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const voted = await vote(pdp.url, alice, id, 'approve', 'ticket OPS-9');
    assert.equal(voted.status, 200);
    assert.equal(voted.body.approval.decisions[0].kind, 'human');
    const approved = (await approvalEvents(pdp, id)).find((record) => auditBodyOf(record)?.event === 'approval.approved')!;
    assert.equal(approved.actor.user.type_id, 1);
    assert.equal((auditBodyOf(approved) as any).actor.kind, 'human');
    assert.equal((auditBodyOf(approved) as any).approval.approvers[0].kind, 'human');
  });
});

describe('an approval rule that lets agents vote (approver_kinds in policy data)', () => {
  let pdp: TestPdp;
  let folder: string;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'portcullis-kinds-policy-'));
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(folder, 'portcullis'), { recursive: true });
    const dataFile = join(folder, 'portcullis/data.json');
    const data = JSON.parse(readFileSync(dataFile, 'utf8'));
    data.approval_rules.default.approver_kinds = ['agent', 'human'];
    writeFileSync(dataFile, JSON.stringify(data));
    pdp = await startTestPdp({ PORTCULLIS_POLICY_DIR: folder });
  });
  after(async () => {
    await pdp?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test('an agent approver may vote, and the record and the audit call it an agent, not a human', async () => {
    const agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const { id } = await requestApproval(pdp, deleteOrder(agent, 303));
    const bot = await pdp.consoleToken({ sub: 'bot:auto-approver', roles: ['approver'], kind: 'agent' });
    const voted = await vote(pdp.url, bot, id, 'approve', 'automated check passed');
    assert.equal(voted.status, 200, JSON.stringify(voted.body));
    assert.equal(voted.body.approval.status, 'approved');
    assert.deepEqual(voted.body.approval.approver_kinds, ['agent', 'human']);
    assert.equal(voted.body.approval.decisions[0].kind, 'agent');
    const approved = (await approvalEvents(pdp, id)).find((record) => auditBodyOf(record)?.event === 'approval.approved')!;
    assert.equal(approved.actor.user.type_id, 4, 'OCSF: a service account, not a user');
    assert.equal((auditBodyOf(approved) as any).actor.kind, 'agent');
    assert.equal((auditBodyOf(approved) as any).approval.approvers[0].kind, 'agent');
    // A service-kind token is an agent to the PDP: allowed here, and recorded as an agent.
    const second = await requestApproval(pdp, deleteOrder(agent, 304));
    const service = await tokenOfKind(pdp, 'svc:ci-approver', 'service', ['approver']);
    const byService = await vote(pdp.url, service, second.id, 'approve', '');
    assert.equal(byService.status, 200);
    assert.equal(byService.body.approval.decisions[0].kind, 'agent');
  });
});
