// A real OpenID Provider (oidc-provider, a certified implementation) served over HTTPS on
// 127.0.0.1, for the console's sign-in test. HTTPS because the console page may only reach
// https: identity providers (its CSP); the certificate is self-signed for the test, so the
// browser context ignores certificate errors and the PDP reads the signing keys from a JWKS
// file instead of fetching them. Accounts are whatever login is typed at its sign-in page.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface HttpsOidcProvider {
  readonly issuer: string;
  /** The provider's public signing keys, for PORTCULLIS_OIDC_JWKS_FILE. */
  readonly jwksFile: string;
  /** Query parameters of every authorization request the browser made. */
  readonly authorizations: URLSearchParams[];
  /** How many requests reached the token endpoint. */
  tokenRequests(): number;
  close(): Promise<void>;
}

export interface OidcAccount {
  readonly roles: readonly string[];
  readonly kind: 'agent' | 'human';
}

export async function startHttpsOidcProvider(options: {
  directory: string;
  clientId: string;
  redirectUri: string;
  accounts: Readonly<Record<string, OidcAccount>>;
}): Promise<HttpsOidcProvider> {
  const { directory } = options;
  const keyFile = join(directory, 'oidc-tls-key.pem');
  const certFile = join(directory, 'oidc-tls-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });

  const kid = randomBytes(8).toString('hex');
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwksFile = join(directory, 'oidc-jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] }));

  // The issuer URL names the port, so the port is taken before the provider is made.
  const probe = createTcpServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const issuer = `https://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: options.clientId,
      token_endpoint_auth_method: 'none',
      redirect_uris: [options.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: { openid: ['sub'], profile: ['name', 'roles', 'kind'] },
    // The console is a public client in the browser: discovery and token requests are cross-origin.
    clientBasedCORS: () => true,
    async findAccount(_context, sub) {
      const account = options.accounts[sub];
      return {
        accountId: sub,
        async claims() {
          return { sub, name: sub, roles: [...(account?.roles ?? [])], kind: account?.kind ?? 'agent' };
        },
      };
    },
    // ID tokens carry the profile claims (roles, kind): the PDP reads them from the token.
    conformIdTokenClaims: false,
  });

  const authorizations: URLSearchParams[] = [];
  let tokenRequests = 0;
  const handle = provider.callback();
  const server: Server = createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (request, response) => {
    const url = new URL(request.url ?? '/', issuer);
    if (url.pathname === '/auth') authorizations.push(url.searchParams);
    if (url.pathname === '/token' && request.method === 'POST') tokenRequests++;
    void handle(request, response);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    issuer,
    jwksFile,
    authorizations,
    tokenRequests: () => tokenRequests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
