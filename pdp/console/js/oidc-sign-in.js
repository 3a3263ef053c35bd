// Production sign-in: the OIDC authorization-code flow with PKCE (S256), state and nonce, as a
// public client. The provider redirects back to /console/ and this same page finishes the flow.
import { jwtClaims } from './jwt-claims.js';

const PENDING_KEY = 'portcullis.console.oidc-pending';
const PENDING_TTL_MS = 10 * 60 * 1000;

export function redirectUri() {
  return new URL('/console/', window.location.origin).href;
}

/** Sends the browser to the provider's sign-in page. `returnHash` is restored afterwards. */
export async function beginOidcSignIn(oidc, returnHash) {
  const discovery = await discover(oidc.issuer);
  const verifier = randomText(32);
  const state = randomText(16);
  const nonce = randomText(16);
  const challenge = base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  window.sessionStorage.setItem(PENDING_KEY, JSON.stringify({
    state, nonce, verifier,
    issuer: oidc.issuer,
    client_id: oidc.client_id,
    token_endpoint: discovery.token_endpoint,
    redirect_uri: redirectUri(),
    return_hash: returnHash,
    started_at: Date.now(),
  }));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: oidc.client_id,
    redirect_uri: redirectUri(),
    scope: oidc.scopes || 'openid',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  window.location.assign(url.href);
}

/**
 * When this page load is the provider's redirect back: exchanges the code and resolves to
 * {token, returnHash}; rejects with a message a person can act on. Resolves to null otherwise.
 */
export async function completeOidcSignIn() {
  const params = new URLSearchParams(window.location.search);
  if (!params.has('code') && !params.has('error')) return null;
  // The code and state must not stay in the address bar, the history or a bookmark.
  window.history.replaceState(null, '', window.location.pathname + window.location.hash);
  const pending = takePending();
  if (pending === null) throw new Error('The sign-in answer arrived, but no sign-in was started in this tab (or it took over 10 minutes). Sign in again.');
  if (params.get('state') !== pending.state) throw new Error('The sign-in answer does not match the sign-in this tab started (state mismatch). Sign in again.');
  if (params.has('iss') && trimSlash(params.get('iss')) !== trimSlash(pending.issuer)) throw new Error('The sign-in answer came from another issuer. Sign in again.');
  if (params.has('error')) throw new Error(`The identity provider refused the sign-in: ${params.get('error_description') || params.get('error')}`);

  const response = await fetch(pending.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: pending.redirect_uri,
      client_id: pending.client_id,
      code_verifier: pending.verifier,
    }),
    credentials: 'omit',
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`The identity provider did not issue a token: ${body.error_description || body.error || `HTTP ${response.status}`}`);
  if (typeof body.id_token === 'string') {
    const claims = jwtClaims(body.id_token);
    if (claims === null || claims.nonce !== pending.nonce) throw new Error('The ID token does not carry the nonce of this sign-in. Sign in again.');
    if (trimSlash(String(claims.iss)) !== trimSlash(pending.issuer)) throw new Error('The ID token comes from another issuer. Sign in again.');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(pending.client_id)) throw new Error('The ID token was issued for another client. Sign in again.');
  }
  const token = typeof body.id_token === 'string' ? body.id_token : body.access_token;
  if (typeof token !== 'string' || token === '') throw new Error('The identity provider answered without a token.');
  return { token, returnHash: pending.return_hash };
}

async function discover(issuer) {
  const response = await fetch(`${trimSlash(issuer)}/.well-known/openid-configuration`, { credentials: 'omit' });
  if (!response.ok) throw new Error(`Could not read the identity provider's configuration (HTTP ${response.status}).`);
  const discovery = await response.json();
  if (trimSlash(String(discovery.issuer)) !== trimSlash(issuer)) throw new Error('The identity provider names another issuer in its configuration.');
  if (typeof discovery.authorization_endpoint !== 'string' || typeof discovery.token_endpoint !== 'string') {
    throw new Error('The identity provider configuration lacks an authorization or token endpoint.');
  }
  const methods = discovery.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) throw new Error('The identity provider does not support PKCE with S256.');
  return discovery;
}

function takePending() {
  const raw = window.sessionStorage.getItem(PENDING_KEY);
  window.sessionStorage.removeItem(PENDING_KEY);
  try {
    const pending = JSON.parse(raw ?? 'null');
    if (pending === null || Date.now() - pending.started_at > PENDING_TTL_MS) return null;
    return pending;
  } catch {
    return null;
  }
}

function randomText(bytes) {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64Url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function trimSlash(url) {
  return url.replace(/\/+$/, '');
}
