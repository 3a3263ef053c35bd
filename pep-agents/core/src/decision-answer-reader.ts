import type { ApprovalV1, DecisionAnswer, DecisionReuseV1, EnrichmentV1, MaskObligationV1, ReasonV1, SyntaxErrorV1 } from './decision-contract.ts';

const EFFECTS = new Set(['allow', 'deny', 'approval_required']);

/**
 * Reads an untrusted `POST /v1/decisions` body. Anything off-contract gives `undefined` (the caller
 * fails closed): in particular an allow whose mask obligations cannot be read must not run unmasked.
 */
export function readDecisionAnswer(body: unknown): DecisionAnswer | undefined {
  if (!isRecord(body)) return undefined;
  const { decision_id: decisionId, effect, reasons, obligations, principal, policy_revision: revision } = body;
  if (typeof decisionId !== 'string' || decisionId === '') return undefined;
  if (typeof effect !== 'string' || !EFFECTS.has(effect)) return undefined;
  if (!Array.isArray(reasons) || !reasons.every(isReason)) return undefined;
  if (!isRecord(obligations) || !Array.isArray(obligations.mask) || !obligations.mask.every(isMask)) return undefined;
  if (obligations.record !== undefined && typeof obligations.record !== 'boolean') return undefined;
  if (!isRecord(principal) || typeof principal.authenticated !== 'boolean') return undefined;
  if (revision !== null && revision !== undefined && typeof revision !== 'string') return undefined;
  const approval = body.approval === undefined ? undefined : readApproval(body.approval);
  if (body.approval !== undefined && !approval) return undefined;
  // A reuse grant the PEP cannot read is dropped, not fatal: the statement is simply asked about again next time.
  const reuse = effect === 'allow' ? readReuse(body.reuse) : undefined;

  return {
    source: 'pdp',
    decision_id: decisionId,
    effect: effect as DecisionAnswer['effect'],
    reasons: reasons.map((reason: ReasonV1) => ({ code: reason.code, message: reason.message })),
    obligations: {
      ...obligations,
      mask: obligations.mask.map((mask: MaskObligationV1) => ({
        table: mask.table,
        column: mask.column,
        strategy: mask.strategy,
        ...(typeof mask.computed_strategy === 'string' ? { computed_strategy: mask.computed_strategy } : {}),
      })),
      record: obligations.record ?? true,
    },
    ...(approval ? { approval } : {}),
    ...(reuse ? { reuse } : {}),
    // Passed on as sent: the masker shape-checks it and masks strictly when it is malformed.
    ...(isRecord(body.enrichment) && Array.isArray(body.enrichment.statements) ? { enrichment: body.enrichment as unknown as EnrichmentV1 } : {}),
    principal: {
      sub: typeof principal.sub === 'string' ? principal.sub : null,
      iss: typeof principal.iss === 'string' ? principal.iss : null,
      kind: principal.kind === 'human' ? 'human' : 'agent',
      authenticated: principal.authenticated,
      ...(typeof principal.expires_at === 'string' && Number.isFinite(Date.parse(principal.expires_at)) ? { expires_at: principal.expires_at } : {}),
    },
    policy_revision: typeof revision === 'string' ? revision : null,
    ...(effect === 'deny' ? readSyntaxError(body.syntax_error) : {}),
  };
}

function readSyntaxError(value: unknown): { syntax_error?: SyntaxErrorV1 } {
  if (!isRecord(value) || typeof value.message !== 'string' || !Number.isInteger(value.position) || (value.position as number) < 1) return {};
  return { syntax_error: { message: value.message, position: value.position as number } };
}

function readApproval(value: unknown): ApprovalV1 | undefined {
  if (!isRecord(value) || typeof value.id !== 'string' || value.id === '' || typeof value.status !== 'string') return undefined;
  if (typeof value.expires_at !== 'string') return undefined;
  return {
    id: value.id,
    status: value.status,
    expires_at: value.expires_at,
    ...(typeof value.console_url === 'string' ? { console_url: value.console_url } : {}),
  };
}

function readReuse(value: unknown): DecisionReuseV1 | undefined {
  if (!isRecord(value) || value.scope !== 'statement-shape' || typeof value.expires_at !== 'string') return undefined;
  return Number.isFinite(Date.parse(value.expires_at)) ? { scope: 'statement-shape', expires_at: value.expires_at } : undefined;
}

function isReason(value: unknown): value is ReasonV1 {
  return isRecord(value) && typeof value.code === 'string' && typeof value.message === 'string';
}

function isMask(value: unknown): value is MaskObligationV1 {
  return isRecord(value) && typeof value.table === 'string' && typeof value.column === 'string' && typeof value.strategy === 'string';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
