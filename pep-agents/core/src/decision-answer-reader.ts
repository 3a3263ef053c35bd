import {
  decisionAnswerEssentialsV1Validator,
  decisionReuseV1Validator,
  maskKind,
  syntaxErrorV1Validator,
  type ApprovalV1,
  type DecisionReuseV1,
  type EnrichmentV1,
  type MaskKindV1,
  type MaskOfKind,
  type MaskTargetV1,
  type SyntaxErrorV1,
} from '@portcullis/contract';
import type { DecisionAnswer } from './decision-contract.ts';

const SQL_COLUMNS_ONLY: readonly MaskKindV1[] = ['sql-column'];

/**
 * Reads an untrusted `POST /v1/decisions` body. Anything off-contract gives `undefined` (the caller
 * fails closed): in particular an allow whose mask obligations cannot be read must not run
 * unmasked, nor one naming a mask kind this PEP cannot enforce (`enforceable`: SQL columns unless
 * the PEP says otherwise). What a PEP must read is the contract's DecisionAnswerEssentialsV1; the
 * rest is read leniently (an unreadable part is dropped, never trusted).
 */
export function readDecisionAnswer<K extends MaskKindV1 = 'sql-column'>(
  body: unknown,
  enforceable: readonly K[] = SQL_COLUMNS_ONLY as readonly K[],
): DecisionAnswer<MaskOfKind<K>> | undefined {
  if (!decisionAnswerEssentialsV1Validator.check(body)) return undefined;
  const { decision_id: decisionId, effect, reasons, obligations, policy_revision: revision } = body;
  if (!obligations.mask.every((mask) => (enforceable as readonly MaskKindV1[]).includes(maskKind(mask)))) return undefined;
  const raw = body as Record<string, unknown>;
  const principal = raw.principal as Record<string, unknown>;
  const approval = body.approval === undefined ? undefined : readApproval(body.approval);
  // A reuse grant the PEP cannot read is dropped, not fatal: the statement is simply asked about again next time.
  const reuse = effect === 'allow' ? readReuse(raw.reuse) : undefined;

  return {
    source: 'pdp',
    decision_id: decisionId,
    effect,
    reasons: reasons.map((reason) => ({ code: reason.code, message: reason.message })),
    obligations: {
      ...(raw.obligations as Record<string, unknown>),
      mask: obligations.mask.map(maskAsSent) as MaskOfKind<K>[],
      record: obligations.record ?? true,
    },
    ...(approval ? { approval } : {}),
    ...(reuse ? { reuse } : {}),
    // Passed on as sent: the masker shape-checks it and masks strictly when it is malformed.
    ...(isRecord(raw.enrichment) && Array.isArray(raw.enrichment.statements) ? { enrichment: raw.enrichment as unknown as EnrichmentV1 } : {}),
    principal: {
      sub: typeof principal.sub === 'string' ? principal.sub : null,
      iss: typeof principal.iss === 'string' ? principal.iss : null,
      kind: principal.kind === 'human' ? 'human' : 'agent',
      authenticated: body.principal.authenticated,
      ...(typeof principal.expires_at === 'string' && Number.isFinite(Date.parse(principal.expires_at)) ? { expires_at: principal.expires_at } : {}),
      // Unreadable roles are dropped, never half-read: a PEP impersonating with them sends none.
      ...(isStringArray(principal.roles) ? { roles: [...principal.roles] } : {}),
    },
    policy_revision: typeof revision === 'string' ? revision : null,
    ...(effect === 'deny' ? readSyntaxError(raw.syntax_error) : {}),
  };
}

/** A mask obligation with the fields its kind names, nothing else the answer put in it. */
function maskAsSent(mask: MaskTargetV1): MaskTargetV1 {
  if (mask.kind === 'json-path') return { kind: mask.kind, path: mask.path, strategy: mask.strategy };
  if (mask.kind === 'byte-stream') return { kind: mask.kind, ...(mask.stream === undefined ? {} : { stream: mask.stream }), detectors: [...mask.detectors], strategy: mask.strategy };
  return {
    table: mask.table,
    column: mask.column,
    strategy: mask.strategy,
    ...(mask.computed_strategy === undefined ? {} : { computed_strategy: mask.computed_strategy }),
  };
}

function readSyntaxError(value: unknown): { syntax_error?: SyntaxErrorV1 } {
  if (!syntaxErrorV1Validator.check(value)) return {};
  return { syntax_error: { message: value.message, position: value.position } };
}

function readApproval(value: { id: string; status: string; expires_at: string; console_url?: unknown }): ApprovalV1 {
  return {
    id: value.id,
    status: value.status,
    expires_at: value.expires_at,
    ...(typeof value.console_url === 'string' ? { console_url: value.console_url } : {}),
  };
}

function readReuse(value: unknown): DecisionReuseV1 | undefined {
  if (!decisionReuseV1Validator.check(value)) return undefined;
  return Number.isFinite(Date.parse(value.expires_at)) ? { scope: 'statement-shape', expires_at: value.expires_at } : undefined;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
