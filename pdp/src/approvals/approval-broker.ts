import type { AdmittingAuditRecorder } from '../audit/trail/audit-trail.ts';
import type { ApprovalV1, DecisionRequestV1, ReasonV1 } from '@portcullis/contract';
import type { EnrichedAction } from '../enrichment/action-enricher.ts';
import type { VerifiedPrincipal } from '../identity/token-verifier.ts';
import type { ApprovalRequirement } from './approval-requirement.ts';
import { approvalAuditEventFor } from './approval-audit.ts';
import { approvalBinding } from './approval-binding.ts';
import { summarizeAction } from './action-summary.ts';
import { actionDisplay, type McpArgumentKind } from './action-display.ts';
import type { ApprovalEvent, ApprovalListener, ApprovalRecord, ApprovalStore, EventsSince, PendingPage, PrincipalKind, TransitionResult } from './approval-store.ts';
import { ApprovalWaiters } from './approval-waiters.ts';

export interface ApprovalBrokerOptions {
  readonly store: ApprovalStore;
  /** Asked before a vote: a resolution it cannot record must not happen (AU-5). */
  readonly audit: AdmittingAuditRecorder;
  /** The web console's public base URL; decision answers point approvers there. */
  readonly consoleUrl?: string;
  /** Bounds on the TTL and the window policy asks for. */
  readonly maxTtlSeconds: number;
  readonly maxWindowSeconds: number;
  /** Pending approvals one principal may hold; a further request is denied (`approvals-limit`). */
  readonly maxPendingPerPrincipal?: number;
  readonly log: (message: string) => void;
}

export interface ApprovalRequestContext {
  readonly decisionId: string;
  readonly request: DecisionRequestV1;
  readonly principal: VerifiedPrincipal;
  readonly action: EnrichedAction;
  /**
   * The sent text's keyed digest, when the action shows it with secrets withheld: the binding
   * then pins the exact text, so another password or connection string is another approval.
   */
  readonly withheldTextMac?: string;
  readonly requirement: ApprovalRequirement;
  readonly reasons: readonly ReasonV1[];
  /** `binding(context, requirement)`, when the caller has it already (it hashes the whole action). */
  readonly binding?: string;
}

export interface Approver {
  readonly sub: string;
  readonly iss: string;
  readonly kind: PrincipalKind;
  readonly roles: readonly string[];
}

/** A request's answer: the approval to wait for (new or the one already pending), or the cap. */
export type ApprovalRequestOutcome =
  | { readonly opened: true; readonly approval: ApprovalV1; readonly joined: boolean }
  | { readonly opened: false; readonly pending: number; readonly limit: number };

/**
 * Approvals as the rest of the PDP sees them: opens a request for a held command, consumes a
 * granted one for exactly that command (presented by its id, or found by its binding), takes votes, releases waiters, and audits every
 * transition this replica makes. State lives in the store, so any replica can do any step.
 */
export class ApprovalBroker {
  readonly #store: ApprovalStore;
  readonly #options: ApprovalBrokerOptions;
  readonly #waiters: ApprovalWaiters;

  constructor(options: ApprovalBrokerOptions) {
    this.#store = options.store;
    this.#options = options;
    this.#waiters = new ApprovalWaiters(options.store);
  }

  /**
   * What an approval is bound to: who, where, and the action as enriched — or, for a window,
   * who and where only, so it covers the principal's held commands on that resource.
   */
  binding(context: Pick<ApprovalRequestContext, 'principal' | 'request' | 'action' | 'withheldTextMac'>, requirement: ApprovalRequirement): string {
    const command = context.withheldTextMac === undefined ? context.action : { action: context.action, withheld_text_mac: context.withheldTextMac };
    const scope = requirement.window_seconds === undefined ? command : { window: true };
    return approvalBinding(context.principal, context.request.resource, scope);
  }

  /**
   * Opens an approval for a held command — or, while one for the same principal, resource and
   * command is pending, answers with that one: an agent that retries makes one card, not many.
   */
  async request(context: ApprovalRequestContext): Promise<ApprovalRequestOutcome> {
    const { request, principal, requirement } = context;
    const opened = await this.#store.open({
      requester: { sub: principal.sub, iss: principal.iss, kind: principal.kind },
      resource: { type: request.resource.type, name: request.resource.name, ...(request.resource.environment ? { environment: request.resource.environment } : {}) },
      decision_id: context.decisionId,
      action: { ...request.action },
      action_summary: summarizeAction(request.action),
      action_display: actionDisplay({ ...request.action }, argumentKindsOf(context.action)),
      ...(request.session ? { session: { ...request.session } } : {}),
      binding: context.binding ?? this.binding(context, requirement),
      ...(requirement.window_seconds === undefined ? {} : { window_seconds: Math.min(requirement.window_seconds, this.#options.maxWindowSeconds) }),
      reasons: context.reasons.map((reason) => ({ ...reason })),
      quorum: requirement.quorum,
      approver_roles: [...requirement.approver_roles],
      ...(requirement.approver_kinds === undefined ? {} : { approver_kinds: [...requirement.approver_kinds] }),
      ttlSeconds: Math.min(requirement.ttl_seconds, this.#options.maxTtlSeconds),
    }, this.#options.maxPendingPerPrincipal === undefined ? {} : { maxPendingPerRequester: this.#options.maxPendingPerPrincipal });
    if (opened.outcome === 'limit') return { opened: false, pending: opened.pending, limit: opened.limit };
    return { opened: true, approval: this.view(opened.record), joined: opened.outcome === 'joined' };
  }

  /** Consumes a granted approval for the command it was granted for; single use. */
  present(approvalId: string, binding: string): Promise<TransitionResult> {
    return this.#store.consume(approvalId, binding);
  }

  /**
   * Consumes the approval granted for exactly this command, found by its binding (the same
   * principal re-running it on the same resource); undefined when none is waiting to be used.
   */
  async consumeGranted(binding: string): Promise<TransitionResult | undefined> {
    return this.#store.consumeGranted(binding);
  }

  async vote(approvalId: string, approver: Approver, verdict: 'approve' | 'deny', reason: string): Promise<TransitionResult> {
    // The vote may resolve the approval, and this replica audits what it writes: no record, no vote.
    if (!this.#options.audit.admits()) {
      return { ok: false, code: 'audit-unavailable', message: 'the audit trail cannot record this vote, so it was not cast; vote again once it can' };
    }
    return this.#store.vote(approvalId, { approver: approver.sub, approverIss: approver.iss, approverKind: approver.kind, approverRoles: [...approver.roles], verdict, reason });
  }

  get(approvalId: string): Promise<ApprovalRecord | undefined> {
    return this.#store.get(approvalId);
  }

  /** Resolves when the approval leaves pending, or with its state when `timeoutMs` runs out. */
  waitForResolution(approvalId: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalRecord | undefined> {
    return this.#waiters.wait(approvalId, timeoutMs, signal);
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  /** The pending queue and the log position it reflects; events after it may repeat it. */
  async snapshot(): Promise<{ cursor: string; pending: ApprovalRecord[] }> {
    const cursor = await this.#store.latestEventId();
    return { cursor, pending: await this.#store.listPending() };
  }

  /** One page of the pending queue (see ApprovalStore.pendingPage) and the log position before it was read. */
  async pendingPage(cursor: string | undefined, limit: number): Promise<PendingPage & { eventCursor: string }> {
    const eventCursor = await this.#store.latestEventId();
    return { ...(await this.#store.pendingPage(cursor, limit)), eventCursor };
  }

  eventsSince(cursor: string, limit: number): Promise<EventsSince> {
    return this.#store.eventsSince(cursor, limit);
  }

  recentResolved(limit: number): Promise<ApprovalRecord[]> {
    return this.#store.recentResolved(limit);
  }

  subscribe(listener: ApprovalListener): () => void {
    return this.#store.subscribe(listener);
  }

  health(): Promise<{ ok: boolean; detail: string }> {
    return this.#store.health();
  }

  /** The public form of a record for decision answers and long-polls. */
  view(record: ApprovalRecord): ApprovalV1 {
    const base = this.#options.consoleUrl;
    return {
      id: record.id,
      status: record.status,
      expires_at: record.expires_at,
      ...(record.window_ends_at === undefined ? {} : { window_ends_at: record.window_ends_at }),
      ...(base ? { console_url: `${base.replace(/\/$/, '')}/console/#/approvals/${record.id}` } : {}),
    };
  }

  /** The store's hook for writes this replica made: each becomes one audit event. */
  auditLocalWrite(event: ApprovalEvent): void {
    const audited = approvalAuditEventFor(event);
    if (audited === undefined) return;
    if (!this.#options.audit.record(audited)) {
      this.#options.log(`approvals: the audit trail refused ${audited.body.event as string} for approval ${event.record.id}`);
    }
  }

  async close(): Promise<void> {
    this.#waiters.close();
    await this.#store.close();
  }
}

/** An MCP tool call's analysed arguments by kind (the enriched action's argument_analysis). */
function argumentKindsOf(action: EnrichedAction): Record<string, McpArgumentKind> {
  if (action.type !== 'mcp' || action.argument_analysis === undefined) return {};
  return Object.fromEntries(Object.entries(action.argument_analysis).map(([name, analysis]) => [name, analysis.kind]));
}
