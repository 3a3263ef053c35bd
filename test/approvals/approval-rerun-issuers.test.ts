// A principal is its issuer and its subject: OIDC promises `sub` unique within one issuer only.
// With two trusted issuers, a token from the other one naming the same sub is another principal,
// and a re-run with it must not consume the approval granted to the first.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { deleteOrder, longPoll, reasonCodes, requestApproval, vote } from './approval-fixtures.ts';

const OTHER_ISSUER = 'https://idp.example.test';

describe('a granted approval is found by its binding only for the principal of the same issuer', () => {
  let folder: string;
  let pdp: TestPdp;
  let privateKey: CryptoKey;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'portcullis-rerun-issuers-'));
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwksFile = join(folder, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'other', alg: 'RS256', use: 'sig' }] }));
    // The configured issuer and the dev issuer, both trusted.
    pdp = await startTestPdp({ PORTCULLIS_OIDC_ISSUER: OTHER_ISSUER, PORTCULLIS_OIDC_JWKS_FILE: jwksFile, PORTCULLIS_DEV_ISSUER: 'true' });
  });
  after(async () => {
    await pdp?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const otherIssuerToken = (sub: string, roles: string[]): Promise<string> =>
    new SignJWT({ roles, kind: 'agent' })
      .setProtectedHeader({ alg: 'RS256', kid: 'other', typ: 'JWT' })
      .setIssuer(OTHER_ISSUER)
      .setSubject(sub)
      .setAudience('portcullis')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);

  test('the same sub from the other issuer asks anew and leaves the approval approved; the granted principal uses it', async () => {
    const agent = await pdp.token({ sub: 'agent:billing-bot', roles: ['writer'] });
    const alice = await pdp.consoleToken({ sub: 'alice', roles: ['approver'], kind: 'human' });
    const { id } = await requestApproval(pdp, deleteOrder(agent, 501));
    assert.equal((await vote(pdp.url, alice, id, 'approve', 'ticket OPS-501')).status, 200);

    const impostor = await otherIssuerToken('agent:billing-bot', ['writer']);
    const rerun = await pdp.decide(deleteOrder(impostor, 501));
    assert.equal(rerun.status, 200);
    assert.equal(rerun.body.effect, 'approval_required', `another issuer's principal is not the one approved: ${JSON.stringify(reasonCodes(rerun.body))}`);
    assert.notEqual((rerun.body.approval as { id: string }).id, id);
    assert.equal((await longPoll(pdp.url, pdp.pepToken, id, 0)).body.approval.status, 'approved', 'nothing consumed it');

    const presented = await pdp.decide({ ...deleteOrder(impostor, 501), approval_id: id });
    assert.equal(presented.body.effect, 'deny');
    assert.deepEqual(reasonCodes(presented.body).slice(0, 1), ['approval-binding-mismatch']);

    const own = await pdp.decide(deleteOrder(agent, 501));
    assert.equal(own.body.effect, 'allow');
    assert.equal((own.body.approval as { id: string; status: string }).id, id);
  });
});
