import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { loadPdpConfig } from '../src/config/pdp-config.ts';
import { consoleRoute } from '../src/http/routes/console-route.ts';

describe('the console route', () => {
  it('names the OIDC issuer in the console CSP only when console sign-in is configured', async () => {
    const policyOf = async (env: Record<string, string>): Promise<string> => {
      const app = express();
      app.use('/console', consoleRoute(loadPdpConfig({ PORTCULLIS_DEV_ISSUER: 'true', ...env })));
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const { port } = server.address() as { port: number };
        return (await fetch(`http://127.0.0.1:${port}/console/`)).headers.get('content-security-policy') ?? '';
      } finally {
        server.close();
      }
    };
    const withSignIn = await policyOf({ PORTCULLIS_OIDC_ISSUER: 'https://login.example.test/realms/ops', PORTCULLIS_CONSOLE_OIDC_CLIENT_ID: 'approver-console' });
    assert.match(withSignIn, /connect-src 'self' https:\/\/login\.example\.test;/);
    const issuerOnly = await policyOf({ PORTCULLIS_OIDC_ISSUER: 'https://login.example.test/realms/ops' });
    assert.match(issuerOnly, /connect-src 'self';/);
  });
});
