import express, { Router, type Request, type Response } from 'express';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PdpConfig } from '../../config/pdp-config.ts';

/** The console's static files, shipped in the package beside src/ and dist/ (this file is three levels down in either). */
export const CONSOLE_DIRECTORY = fileURLToPath(new URL('../../../console', import.meta.url));

/** asciinema-player's browser bundle (asciinema-player.min.js, asciinema-player.css), wherever npm put the package. */
const ASCIINEMA_PLAYER_DIRECTORY = dirname(createRequire(import.meta.url).resolve('asciinema-player/dist/bundle/asciinema-player.min.js'));


/**
 * /console — the approver web console: static files, plus what the page needs to know to sign
 * in (the OIDC issuer and client for the authorization-code flow, or dev mode).
 */
export function consoleRoute(config: PdpConfig): Router {
  const router = Router();
  // The page talks to this PDP (its API and the approvals socket) and, when console sign-in is
  // configured, to the issuer (discovery, token endpoint): nowhere else, so a script that got in
  // cannot send a token away.
  const issuerOrigin = config.identity.issuer && config.approvals.consoleOidc ? ` ${new URL(config.identity.issuer).origin}` : '';
  // 'self' covers ws: and wss: to the same host (CSP Level 3), so the approvals socket needs no entry of its own.
  // 'wasm-unsafe-eval' lets the session player compile its terminal emulator (WebAssembly); it allows no JavaScript eval.
  const policy = `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'${issuerOrigin}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`;
  router.use((_request: Request, response: Response, next) => {
    // The console handles tokens: no framing by other sites, no inline script, no referrers.
    response.setHeader('Content-Security-Policy', policy);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.get('/config.json', (_request: Request, response: Response) => {
    response.json({
      protocol: 1,
      socket_path: '/v1/ws',
      dev_issuer: config.identity.devIssuer,
      oidc: config.identity.issuer && config.approvals.consoleOidc
        ? { issuer: config.identity.issuer, client_id: config.approvals.consoleOidc.clientId, scopes: config.approvals.consoleOidc.scopes }
        : null,
    });
  });
  // The session player (asciinema-player, from the npm registry): its script and stylesheet, as shipped.
  router.use('/vendor/asciinema-player', express.static(ASCIINEMA_PLAYER_DIRECTORY, { index: false, fallthrough: true, dotfiles: 'deny' }));
  router.use(express.static(CONSOLE_DIRECTORY, { index: 'index.html', fallthrough: true, dotfiles: 'deny' }));
  return router;
}
