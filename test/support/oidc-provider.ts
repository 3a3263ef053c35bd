// A real OpenID Provider (oidc-provider, a certified implementation) on 127.0.0.1 for tests of
// the console's authorization-code + PKCE sign-in. Accounts are whatever name is typed at its
// login page; each carries the roles given here.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestOidcProvider {
  readonly issuer: string;
  close(): Promise<void>;
}

export async function startOidcProvider(options: { clientId: string; redirectUri: string; roles: Record<string, string[]> }): Promise<TestOidcProvider> {
  // The issuer URL must be known before listening: take a port first.
  const probe = (await import('node:net')).createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  probe.close();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: options.clientId,
      token_endpoint_auth_method: 'none',
      redirect_uris: [options.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: { openid: ['sub'], profile: ['name', 'roles'] },
    // Cross-origin token requests from the console page (a public client in the browser).
    clientBasedCORS: () => true,
    async findAccount(_context, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, name: sub, roles: options.roles[sub] ?? [] };
        },
      };
    },
    // ID tokens carry the profile claims (roles) directly, as the PDP reads roles from the token.
    conformIdTokenClaims: false,
  });
  const server: Server = provider.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    issuer,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
