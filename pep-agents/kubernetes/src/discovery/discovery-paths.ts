/**
 * Discovery, OpenAPI and version paths: what every client reads before anything else, the same
 * for every caller, so answers may be kept a short while.
 */
export function isDiscoveryPath(path: string): boolean {
  if (path === '/api' || path === '/apis' || path === '/version' || path === '/openapi/v2' || path === '/openapi/v3') return true;
  if (/^\/api\/[^/]+$/.test(path)) return true;
  if (/^\/apis\/[^/]+(\/[^/]+)?$/.test(path)) return true;
  return /^\/openapi\/v3\/[^?#]+$/.test(path);
}
