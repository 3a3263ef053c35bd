import type { DecisionRequestV1, DecisionReuseV1 } from '@portcullis/contract';
import type { EnrichedAction } from '../enrichment/action-enricher.ts';
import type { VerifyResult } from '../identity/token-verifier.ts';
import type { PolicyOutcome } from './policy-result.ts';

/** However long policy asks for, a reused allow is asked again after this. */
export const MAX_REUSE_SECONDS = 300;

/**
 * Statement kinds whose enrichment takes nothing from literal values: tables, columns, functions,
 * outputs and cursor names come from the parse tree's structure (a FETCH's row count is the only
 * literal of a cursor statement). Utility statements (SET, COPY, DO, CALL …) carry literals into
 * what policy sees (setting values, file names, code bodies), so they are decided one by one.
 */
const LITERAL_INSENSITIVE_KINDS: ReadonlySet<string> = new Set(['select', 'insert', 'update', 'delete', 'merge', 'cursor']);

export interface ReuseContext {
  readonly request: DecisionRequestV1;
  readonly verification: VerifyResult;
  readonly action: EnrichedAction;
  /** Policy's outcome before any approval was settled. */
  readonly outcome: PolicyOutcome;
  readonly now: number;
}

/**
 * Whether this decision may stand for later statements of the same shape, and until when. Both
 * sides must agree: policy opts in (`reuse_seconds`, asserting that its answer does not depend on
 * literal values), and the PDP checks that nothing policy saw came from one. Never for a deny, an
 * approval, an unverified caller, or past the token's expiry.
 */
export function grantReuse(context: ReuseContext): DecisionReuseV1 | undefined {
  const { request, verification, action, outcome, now } = context;
  if (outcome.effect !== 'allow' || outcome.reuseSeconds === undefined) return undefined;
  if (!verification.ok || request.approval_id !== undefined) return undefined;
  if (!isLiteralInsensitiveSql(action) && !isBodilessKubernetesRead(action) && !isRepeatableMcpRead(action)) return undefined;
  let until = now + Math.min(outcome.reuseSeconds, MAX_REUSE_SECONDS) * 1000;
  const tokenExpiry = verification.principal.exp;
  if (tokenExpiry !== undefined) until = Math.min(until, tokenExpiry * 1000);
  if (until <= now) return undefined;
  return { scope: 'statement-shape', expires_at: new Date(until).toISOString() };
}

/** Reads answered at once: a watch stays open (nothing to reuse), `proxy` reaches into a workload. */
const REUSABLE_KUBERNETES_VERBS: ReadonlySet<string> = new Set(['get', 'list', 'head']);

/**
 * A Kubernetes GET (or HEAD) without a body: the PEP keys its reuse on the exact method, path and
 * query, so a reused allow only ever stands for the very same request again (a poll, a re-read).
 * Watches, writes and upgrades are decided one by one.
 */
function isBodilessKubernetesRead(action: EnrichedAction): boolean {
  if (action.type !== 'kubernetes') return false;
  if (action.method !== 'GET' && action.method !== 'HEAD') return false;
  if (action.body !== undefined || ('object' in action && action.object !== undefined)) return false;
  return REUSABLE_KUBERNETES_VERBS.has(action.request.verb);
}

/**
 * An MCP read the agent sends to the server: a tools/call of a tool its server calls read-only
 * (and not destructive), whose analysed arguments are paths alone (a SQL or shell argument is
 * judged by what it does, and decided each time), or a resources/read. The gateway keys its reuse
 * on the whole action (tool, arguments, annotations, URI), so a reused allow stands only for the
 * very same request again in the same session.
 */
function isRepeatableMcpRead(action: EnrichedAction): boolean {
  if (action.type !== 'mcp' || action.direction === 'to_client') return false;
  if (action.method === 'resources/read') return true;
  if (action.method !== 'tools/call') return false;
  if (action.annotations?.readOnlyHint !== true || action.annotations.destructiveHint === true) return false;
  return Object.values(action.argument_analysis ?? {}).every((argument) => argument.kind === 'path' && argument.parse_error === null);
}

function isLiteralInsensitiveSql(action: EnrichedAction): boolean {
  if (action.type !== 'sql' || action.parse_error !== null) return false;
  const { statements } = action;
  return statements.length > 0 && statements.every((statement) => LITERAL_INSENSITIVE_KINDS.has(statement.kind) && statement.copy === null);
}
