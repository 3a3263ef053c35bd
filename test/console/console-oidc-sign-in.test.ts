import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { startHttpsOidcProvider, type HttpsOidcProvider } from './support/https-oidc-provider.ts';

/**
 * Production sign-in: the console runs the OIDC authorization-code flow with PKCE against the
 * PDP's configured issuer, in Chromium, and the PDP accepts the resulting ID token as the
 * approver's bearer on the WebSocket and for votes.
 */
const CLIENT_ID = 'portcullis-console';

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('the console signs approvers in with OIDC (authorization code, PKCE S256, state, nonce)', () => {
  let directory: string;
  let provider: HttpsOidcProvider;
  let pdp: TestPdp;
  let browser: Browser;

  before(async () => {
    const executablePath = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'chromium'], { encoding: 'utf8' }).trim();
    directory = mkdtempSync(join(tmpdir(), 'portcullis-console-oidc-'));
    // The provider must know the console's redirect URI before the PDP listens: a port is taken first.
    const port = await freePort();
    provider = await startHttpsOidcProvider({ directory, clientId: CLIENT_ID, redirectUri: `http://127.0.0.1:${port}/console/`, accounts: { oscar: { roles: ['approver'], kind: 'human' } } });
    pdp = await startTestPdp({
      PORTCULLIS_PORT: String(port),
      PORTCULLIS_OIDC_ISSUER: provider.issuer,
      PORTCULLIS_OIDC_JWKS_FILE: provider.jwksFile,
      PORTCULLIS_DEV_ISSUER: 'true',
      PORTCULLIS_CONSOLE_OIDC_CLIENT_ID: CLIENT_ID,
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await pdp?.close();
    await provider?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    // The provider's certificate is self-signed for this test.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    return page;
  }

  it('signs in at the provider, comes back to the deep link it left from with code and state gone from the URL, and votes with the ID token', async () => {
    const agent = await pdp.token({ sub: 'agent-billing', roles: ['reader', 'writer'], kind: 'agent' });
    const { body } = await pdp.decide({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db', environment: 'production' }, action: { type: 'sql', sql: 'DELETE FROM orders WHERE id = 21' } });
    assert.equal(body.effect, 'approval_required');
    const id = (body.approval as { id: string }).id;

    const page = await newPage();
    await page.goto(`${pdp.url}/console/#/approvals/${id}`);
    await page.getByRole('button', { name: `Sign in with ${new URL(provider.issuer).host}` }).click();
    // The provider's own pages: sign in, then consent to the console's scopes.
    await page.locator('input[name="login"]').fill('oscar');
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#connection[data-state="live"]').waitFor();
    assert.equal(await page.locator('#me-name').textContent(), 'oscar');
    assert.equal(page.url(), `${pdp.url}/console/#/approvals/${id}`, 'no code or state left in the address bar');

    const authorization = provider.authorizations[0]!;
    assert.equal(authorization.get('code_challenge_method'), 'S256');
    assert.equal(authorization.get('redirect_uri'), `${pdp.url}/console/`);
    assert.equal(authorization.get('scope'), 'openid profile');
    assert.ok((authorization.get('state') ?? '').length >= 20 && (authorization.get('nonce') ?? '').length >= 20);
    // The provider requires PKCE: the code was redeemed only because the verifier matched the challenge.
    assert.equal(provider.tokenRequests(), 1);
    assert.deepEqual(await page.evaluate('Object.keys(window.sessionStorage)'), ['portcullis.console.session'], 'the pending sign-in is gone, the session kept for this tab');
    assert.equal(await page.evaluate('window.localStorage.length'), 0);

    const linked = page.locator(`article.card.linked[data-approval-id="${id}"]`);
    await linked.waitFor();
    await linked.getByRole('button', { name: /^Approve/ }).click();
    await linked.locator('.outcome', { hasText: 'You approved' }).waitFor();
    const answer = await fetch(`${pdp.url}/v1/approvals/${id}`, { headers: { authorization: `Bearer ${pdp.pepToken}` } });
    assert.deepEqual(((await answer.json()) as { approval: { decisions: { approver: string }[] } }).approval.decisions.map((decision) => decision.approver), ['oscar']);
  });

  it('refuses a sign-in answer this tab did not ask for, without redeeming its code', async () => {
    const page = await newPage();
    const tokenRequests = provider.tokenRequests();
    await page.goto(`${pdp.url}/console/?code=stolen-code&state=forged#/queue`);
    await page.locator('.sign-in-message', { hasText: 'no sign-in was started in this tab' }).waitFor();
    assert.equal(page.url(), `${pdp.url}/console/#/queue`);
    assert.equal(provider.tokenRequests(), tokenRequests);
  });
});
