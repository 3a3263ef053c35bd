import type { AdmittingAuditRecorder } from '../audit/trail/audit-trail.ts';
import { buildDecisionAuditEvent } from '../audit/events/decision-audit-event.ts';
import { withoutCredentialSpans } from '../audit/ocsf/credential-spans.ts';
import { canonicalJson } from '../audit/trail/canonical-json.ts';
import type { ApprovalV1, DecisionRequestV1, DecisionResponseV1, SyntaxErrorV1 } from '@portcullis/contract';
import type { ActionEnricher, EnrichedAction } from '../enrichment/action-enricher.ts';
import type { TokenVerifier } from '../identity/token-verifier.ts';
import type { PdpMetrics } from '../metrics/pdp-metrics.ts';
import type { PolicyEngine } from '../policy/policy-engine.ts';
import type { ApprovalBroker } from '../approvals/approval-broker.ts';
import { settleApproval } from './approval-gate.ts';
import { decisionAnswer, syntaxErrorOf } from './decision-answer.ts';
import type { DecisionObserver } from './decision-observer.ts';
import type { DecisionSeal } from './decision-seal.ts';
import { grantReuse } from './decision-reuse.ts';
import { buildPolicyInput, type CallingPep } from './policy-input.ts';
import { denied, readPolicyOutcome, type PolicyOutcome } from './policy-result.ts';

export const DECISION_ENTRYPOINT = 'portcullis/decision';

export interface DecisionServiceDeps {
  readonly subjectVerifier: TokenVerifier;
  readonly enricher: ActionEnricher;
  readonly engine: PolicyEngine;
  readonly audit: AdmittingAuditRecorder;
  readonly metrics: PdpMetrics;
  readonly approvals: ApprovalBroker;
  /** Seals each decision id to its PEP, resource and principal (session events are checked against it). */
  readonly seal: DecisionSeal;
  /** Told of each recorded decision after its answer is ready (the shadow policy). */
  readonly observer?: DecisionObserver;
}

export type { CallingPep } from './policy-input.ts';

/**
 * The decision core: verify who is asking, parse what they want to do, ask policy, record it.
 * It knows no transport; every failure along the way ends in a deny that says why.
 */
export class DecisionService {
  constructor(private readonly deps: DecisionServiceDeps) {}

  async decide(request: DecisionRequestV1, pep: CallingPep): Promise<DecisionResponseV1> {
    const started = process.hrtime.bigint();
    const { subjectVerifier, enricher, engine, audit, metrics } = this.deps;

    const verification = await subjectVerifier.verify(request.subject_token === '' ? undefined : request.subject_token);
    const sealed = this.deps.seal.begin({
      pepSub: pep.sub,
      resource: request.resource,
      principal: verification.ok ? { iss: verification.principal.iss, sub: verification.principal.sub } : null,
      sessionId: request.session?.id,
    });
    metrics.tokenDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    if (!verification.ok) metrics.tokenFailures.inc({ who: 'subject', code: verification.code });

    const enrichStarted = process.hrtime.bigint();
    const action = await enricher.enrich(request.action, request.resource);
    const enrichMicros = Number(process.hrtime.bigint() - enrichStarted) / 1000;
    metrics.enrichDuration.observe({ action_type: request.action.type }, enrichMicros / 1e6);

    const input = buildPolicyInput(request, verification, pep, action);

    // What policy itself said; `outcome` becomes the answer (an unverified caller, an approval settle it).
    let policyOutcome: PolicyOutcome;
    // Whether policy gave that outcome itself (not a deny for no policy or a failed evaluation): what the observer compares.
    let evaluated = false;
    let evalMicros = 0;
    let revision = engine.revision ?? null;
    const inputJson = JSON.stringify(input);
    const evalStarted = process.hrtime.bigint();
    try {
      const evaluation = await engine.evaluate(DECISION_ENTRYPOINT, inputJson);
      metrics.policyRoundTrip.observe(Number(process.hrtime.bigint() - evalStarted) / 1e9);
      evalMicros = evaluation.evalMicros;
      revision = evaluation.revision;
      metrics.evalDuration.observe(evalMicros / 1e6);
      policyOutcome = readPolicyOutcome(evaluation.result);
      evaluated = true;
    } catch (error) {
      policyOutcome = engine.revision === undefined
        ? denied('policy-not-loaded', 'no policy is loaded: every action is denied until one is')
        : denied('policy-error', `policy evaluation failed: ${(error as Error).message}`);
    }
    let outcome = policyOutcome;
    // Whatever the policy says, an unverified caller is never let through.
    if (!verification.ok && outcome.effect !== 'deny') {
      outcome = denied(verification.code, 'the subject token was not accepted');
    }

    const reuse = grantReuse({ request, verification, action, outcome, now: Date.now() });
    const refused = (): DecisionResponseV1 => {
      // No record, no action (AU-5): the caller learns why, and the answer allows nothing.
      metrics.auditRejected.inc();
      const failed = denied('audit-unavailable', 'the audit trail cannot record this decision, so it is denied');
      return this.#finish(request, started, decisionAnswer({ decisionId: sealed.id({ kind: 'none' }), outcome: failed, action, verification, revision, syntaxError: policySyntaxError(outcome, action) }));
    };
    // Admission before any side effect: a refused record leaves no approval opened or consumed.
    if (!audit.admits()) return refused();

    let approval: ApprovalV1 | undefined;
    if (verification.ok && outcome.effect === 'approval_required') {
      // The approval record (and every approver's screen) gets the text as recorded: secrets redacted.
      const shown = withRecordedText(request, action);
      // A new approval request names this decision, which allows nothing; only a presented approval turns into an allow.
      // What the shown text withholds still tells commands apart: bound through a keyed digest.
      const withheldTextMac = shown === request ? undefined : this.deps.seal.withheldTextMac(withheldText(request));
      ({ outcome, approval } = await settleApproval(this.deps.approvals, { decisionId: sealed.id({ kind: 'none' }), request: shown, principal: verification.principal, action, ...(withheldTextMac === undefined ? {} : { withheldTextMac }) }, outcome));
    }
    // The id says what it granted, so a session event cannot claim more of it (decision-seal.ts).
    const decisionId = sealed.id(outcome.effect !== 'allow' ? { kind: 'none' } : reuse ? { kind: 'reuse', until: Date.parse(reuse.expires_at) } : { kind: 'allow' });
    const response = decisionAnswer({ decisionId, outcome, action, verification, revision, approval, reuse, syntaxError: policySyntaxError(outcome, action) });

    const totalMicros = Number(process.hrtime.bigint() - started) / 1000;
    const recorded = audit.record(
      buildDecisionAuditEvent({ decisionId, request, pep, verification, action, outcome, ...(approval ? { approval } : {}), ...(reuse ? { reuse } : {}), ...(outcome === policyOutcome ? {} : { policyOutcome }), revision, timings: { totalMicros, enrichMicros, evalMicros } }),
      true,
    );
    // No answer before its record is durable (sync durability): a crash after an allow cannot
    // lose the record of it. The approval consumed for this allow was recorded before it, so
    // it is durable too. Only a fault after admission (the trail stopped, a write failed) gets
    // here unrecorded, and then the answer is a deny as well.
    const durable = recorded && (await audit.durable().then(() => true, () => false));
    if (!durable) return refused();
    if (this.deps.observer && evaluated && revision !== null) {
      this.deps.observer.observe({
        decisionId, inputJson, outcome: policyOutcome, revision,
        principalSub: verification.ok ? verification.principal.sub : null,
        resource: { type: request.resource.type, name: request.resource.name },
        actionType: request.action.type,
      });
    }
    return this.#finish(request, started, response);
  }

  #finish(request: DecisionRequestV1, started: bigint, response: DecisionResponseV1): DecisionResponseV1 {
    this.deps.metrics.decisions.inc({ effect: response.effect, action_type: request.action.type });
    this.deps.metrics.decisionDuration.observe({ action_type: request.action.type }, Number(process.hrtime.bigint() - started) / 1e9);
    return response;
  }
}

/** A deny by policy carries the parser's complaint, which the PEP reports as the client's syntax error. */
function policySyntaxError(outcome: PolicyOutcome, action: EnrichedAction): SyntaxErrorV1 | undefined {
  return outcome.effect === 'deny' ? syntaxErrorOf(action) : undefined;
}

/**
 * The request as recorded: the SQL text the analysis recorded (credentials redacted), also where
 * it is an MCP tool's SQL argument, a Kubernetes Secret write's body and object with their values
 * withheld; the request itself when nothing is.
 */
function withRecordedText(request: DecisionRequestV1, action: EnrichedAction): DecisionRequestV1 {
  if (request.action.type === 'kubernetes' && action.type === 'kubernetes' && action.secret_values_withheld) {
    const { body, object } = action;
    return { ...request, action: { ...request.action, ...(body === undefined ? {} : { body }), ...(object === undefined ? {} : { object }) } };
  }
  if (request.action.type === 'mcp' && action.type === 'mcp') {
    // A SQL argument's credentials are redacted in the enriched arguments (mcp-action-reader.ts);
    // a token, key or URL password in any argument's text is replaced here, whatever its name.
    const sent = request.action.arguments;
    if (sent === undefined || action.arguments === undefined) return request;
    const recorded = withoutCredentialSpans(action.arguments);
    if (canonicalJson(recorded) === canonicalJson(sent)) return request;
    return { ...request, action: { ...request.action, arguments: recorded } };
  }
  if (request.action.type !== 'sql' || action.type !== 'sql' || action.sql === request.action.sql) return request;
  return { ...request, action: { ...request.action, sql: action.sql } };
}

/** What the recorded request withholds, as one text for its keyed digest. */
function withheldText(request: DecisionRequestV1): string {
  if (request.action.type === 'sql') return request.action.sql;
  return canonicalJson(request.action);
}
