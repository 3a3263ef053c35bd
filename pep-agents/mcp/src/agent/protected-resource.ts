import type { ServerResponse } from 'node:http';

export interface ProtectedResourceSettings {
  readonly authorizationServers: readonly string[];
  readonly scopes: readonly string[];
}

export const METADATA_PATH = '/.well-known/oauth-protected-resource';

/**
 * The gateway as an OAuth 2.1 protected resource (RFC 9728, as MCP's authorization spec uses
 * it): each server endpoint is a resource whose metadata names the authorization servers agents
 * get tokens from; a request without an acceptable token is told where that metadata is.
 */
export function protectedResourceMetadata(resource: string, settings: ProtectedResourceSettings): Record<string, unknown> {
  return {
    resource,
    ...(settings.authorizationServers.length > 0 ? { authorization_servers: settings.authorizationServers } : {}),
    bearer_methods_supported: ['header'],
    ...(settings.scopes.length > 0 ? { scopes_supported: settings.scopes } : {}),
  };
}

/** `401` with the challenge MCP clients follow: where the metadata is, and `invalid_token` when a token was given and refused. */
export function writeChallenge(response: ServerResponse, metadataUrl: string, refused?: { readonly description: string }, scopes: readonly string[] = []): void {
  const params = [`resource_metadata="${metadataUrl}"`];
  if (scopes.length > 0) params.push(`scope="${scopes.join(' ')}"`);
  if (refused) params.push('error="invalid_token"', `error_description="${refused.description.replace(/["\\]/g, "'")}"`);
  const body = JSON.stringify({ error: refused ? 'invalid_token' : 'unauthorized', error_description: refused?.description ?? 'a bearer token is required' });
  response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': `Bearer ${params.join(', ')}`, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
