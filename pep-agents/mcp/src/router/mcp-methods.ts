/**
 * The MCP methods the gateway lets through, and how each is handled. Anything not named here is
 * answered `-32601` (a request) or dropped (a notification) and never reaches the other side.
 */
export type AgentRequestHandling =
  /** The session's first request: starts the upstream connection. */
  | 'initialize'
  /** Passed on once the session was allowed to connect; no further decision. */
  | 'relay'
  /** Passed on, then the answer decided with the server's tools (policy may hide some). */
  | 'tools-list'
  /** Decided before it reaches the server, its answer masked as the decision says. */
  | 'decided';

/**
 * A Map, not an object literal: a method named after a member every object inherits
 * (`constructor`, `toString`, `__proto__` …) must not be found on the list.
 */
export const AGENT_REQUESTS: ReadonlyMap<string, AgentRequestHandling> = new Map<string, AgentRequestHandling>([
  ['initialize', 'initialize'],
  ['ping', 'relay'],
  ['tools/list', 'tools-list'],
  ['tools/call', 'decided'],
  ['resources/list', 'relay'],
  ['resources/templates/list', 'relay'],
  ['resources/read', 'decided'],
  ['resources/subscribe', 'relay'],
  ['resources/unsubscribe', 'relay'],
  ['prompts/list', 'relay'],
  ['prompts/get', 'decided'],
  ['completion/complete', 'relay'],
  ['logging/setLevel', 'relay'],
]);

export const AGENT_NOTIFICATIONS: ReadonlySet<string> = new Set(['notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'notifications/roots/list_changed']);

/** Requests a server sends to the agent: each decided (`direction: "to_client"`) before the agent sees it. */
export const SERVER_REQUESTS: ReadonlySet<string> = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);

export const SERVER_NOTIFICATIONS: ReadonlySet<string> = new Set([
  'notifications/cancelled',
  'notifications/progress',
  'notifications/message',
  'notifications/resources/updated',
  'notifications/resources/list_changed',
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
]);
