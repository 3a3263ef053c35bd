// Reads a JWT's claims for display and timing only (who am I, when does this expire). The PDP
// verifies every token it is sent; nothing here is a security decision.

/** The payload of a compact JWT, or null when the text is not one. */
export function jwtClaims(token) {
  const parts = typeof token === 'string' ? token.trim().split('.') : [];
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return null;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

/** Milliseconds since the epoch at which the token expires, or null when it names no `exp`. */
export function expiresAtMs(claims) {
  return claims !== null && typeof claims.exp === 'number' ? claims.exp * 1000 : null;
}
