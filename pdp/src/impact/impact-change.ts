import { maskKind, type EffectV1, type MaskTargetV1, type ObligationsV1, type ReasonV1 } from '@portcullis/contract';
import { canonicalJson } from '../audit/trail/canonical-json.ts';
import type { ReplayOutcome } from '../replay/recorded-policy-outcome.ts';

/**
 * What a candidate policy changes about one recorded decision, compared with what the policy of
 * the day said for the same input. An effect change is named by its transition; the other kinds
 * are reported whatever the effect did, so a deny whose reason changed is still seen.
 */
export type ChangeKind =
  | 'allow→deny'
  | 'deny→allow'
  | 'allow→approval_required'
  | 'deny→approval_required'
  | 'approval_required→allow'
  | 'approval_required→deny'
  | 'reasons changed'
  | 'masks changed'
  | 'obligations changed'
  | 'approval requirement changed';

/** Every kind in the order reports list them: effects first, tightening before loosening. */
export const CHANGE_KINDS: readonly ChangeKind[] = [
  'allow→deny',
  'deny→allow',
  'allow→approval_required',
  'deny→approval_required',
  'approval_required→allow',
  'approval_required→deny',
  'reasons changed',
  'masks changed',
  'obligations changed',
  'approval requirement changed',
];

/** One mask target, named as a report shows it (a byte-stream mask is one target per detector). */
export interface MaskChange {
  readonly target: string;
  /** The strategy recorded; undefined when the candidate adds the mask. */
  readonly recorded?: string;
  /** The candidate's strategy; undefined when the candidate removes the mask. */
  readonly candidate?: string;
}

export interface DecisionChange {
  readonly kinds: readonly ChangeKind[];
  /** Lets through what the policy of the day stopped or hid (gates CI unless --allow-loosening). */
  readonly loosening: readonly string[];
  readonly reasonsAdded: readonly string[];
  readonly reasonsRemoved: readonly string[];
  readonly masks: readonly MaskChange[];
  /** Obligations other than masks whose value changed, by name. */
  readonly obligations: readonly string[];
}

/** Effects whose move from → to lets through what was stopped before. */
const LOOSENING_TRANSITIONS: ReadonlySet<string> = new Set(['deny→allow', 'deny→approval_required', 'approval_required→allow']);

/** What changed between the recorded outcome and the candidate's; undefined when nothing did. */
export function decisionChange(recorded: ReplayOutcome, candidate: ReplayOutcome): DecisionChange | undefined {
  const kinds: ChangeKind[] = [];
  const loosening: string[] = [];
  if (recorded.effect !== candidate.effect) {
    const transition = `${recorded.effect}→${candidate.effect}` as ChangeKind;
    kinds.push(transition);
    if (LOOSENING_TRANSITIONS.has(transition)) loosening.push(transition);
  }
  const reasonsAdded = reasonCodes(candidate.reasons).filter((code) => !reasonCodes(recorded.reasons).includes(code));
  const reasonsRemoved = reasonCodes(recorded.reasons).filter((code) => !reasonCodes(candidate.reasons).includes(code));
  // Reasons by code, as sets (as shadow mode compares them): a reworded message changes no decision.
  if (reasonsAdded.length > 0 || reasonsRemoved.length > 0) kinds.push('reasons changed');

  const masks = maskChanges(recorded.obligations, candidate.obligations);
  if (masks.length > 0) kinds.push('masks changed');
  for (const mask of masks) {
    if (mask.candidate === undefined) loosening.push(`mask removed: ${mask.target}`);
    else if (mask.recorded !== undefined && showsPart(mask.candidate) && !showsPart(mask.recorded)) loosening.push(`mask weakened: ${mask.target} ${mask.recorded} → ${mask.candidate}`);
  }

  const obligations = otherObligationChanges(recorded.obligations, candidate.obligations);
  if (obligations.length > 0) kinds.push('obligations changed');
  if (recorded.obligations.unmasked !== true && candidate.obligations.unmasked === true) loosening.push('unmasked: personal data in clear');
  if (recorded.obligations.record !== false && candidate.obligations.record === false) loosening.push('record: session no longer recorded');

  if (recorded.obligations.mask_complete !== true && candidate.obligations.mask_complete === true) loosening.push('mask_complete: view columns traced to masks instead of redacted');
  for (const tool of stringList(recorded.obligations.hidden_tools)) {
    if (!stringList(candidate.obligations.hidden_tools).includes(tool)) loosening.push(`tool no longer hidden: ${tool}`);
  }

  if (recorded.effect === 'approval_required' && candidate.effect === 'approval_required' && canonicalJson(recorded.approval ?? null) !== canonicalJson(candidate.approval ?? null)) {
    kinds.push('approval requirement changed');
    loosening.push(...approvalLoosening(asRequirement(recorded.approval), asRequirement(candidate.approval)));
  }
  if (kinds.length === 0) return undefined;
  return { kinds, loosening, reasonsAdded, reasonsRemoved, masks, obligations };
}

/** The reason codes of an outcome, each once, in order. */
export function reasonCodes(reasons: readonly ReasonV1[]): string[] {
  return [...new Set(reasons.map((reason) => reason.code))];
}

/** The effects a change moved between, when it moved one. */
export function effectTransition(change: DecisionChange): { from: EffectV1; to: EffectV1 } | undefined {
  const kind = change.kinds.find((item) => item.includes('→'));
  if (!kind) return undefined;
  const [from, to] = kind.split('→') as [EffectV1, EffectV1];
  return { from, to };
}

/** `partial` keeps part of the value in clear; the other strategies (redact, hash, null) hide all of it. */
function showsPart(strategy: string): boolean {
  return strategy.split(' ')[0] === 'partial';
}

function maskChanges(recorded: ObligationsV1, candidate: ObligationsV1): MaskChange[] {
  const before = maskTargets(recorded.mask);
  const after = maskTargets(candidate.mask);
  const changes: MaskChange[] = [];
  for (const [target, strategy] of before) {
    const now = after.get(target);
    if (now === undefined) changes.push({ target, recorded: strategy });
    else if (now !== strategy) changes.push({ target, recorded: strategy, candidate: now });
  }
  for (const [target, strategy] of after) if (!before.has(target)) changes.push({ target, candidate: strategy });
  return changes.sort((left, right) => left.target.localeCompare(right.target));
}

/**
 * Each mask by what it hides, with how. A byte-stream mask hides one value kind per detector, so
 * a detector dropped from its list is a mask removed.
 */
function maskTargets(masks: readonly MaskTargetV1[] | undefined): Map<string, string> {
  const targets = new Map<string, string>();
  for (const mask of masks ?? []) {
    const kind = maskKind(mask);
    if (mask.kind === 'json-path') targets.set(`json-path ${mask.path}`, mask.strategy);
    else if (mask.kind === 'byte-stream') for (const detector of mask.detectors) targets.set(`byte-stream ${mask.stream ?? '*'} ${detector}`, mask.strategy);
    else if (kind === 'sql-column' && 'table' in mask) {
      const strategy = mask.computed_strategy === undefined ? mask.strategy : `${mask.strategy} (computed: ${mask.computed_strategy})`;
      targets.set(`${mask.table}.${mask.column}`, strategy);
    }
  }
  return targets;
}

function otherObligationChanges(recorded: ObligationsV1, candidate: ObligationsV1): string[] {
  const names = new Set([...Object.keys(recorded), ...Object.keys(candidate)]);
  names.delete('mask');
  return [...names].filter((name) => canonicalJson(recorded[name] ?? null) !== canonicalJson(candidate[name] ?? null)).sort();
}

/** The members of an approval requirement (approvals/approval-requirement.ts) a weaker one changes. */
interface Requirement {
  readonly quorum?: unknown;
  readonly approver_roles?: unknown;
  readonly approver_kinds?: unknown;
  readonly ttl_seconds?: unknown;
  readonly window_seconds?: unknown;
}

function asRequirement(value: object | undefined): Requirement {
  return (value ?? {}) as Requirement;
}

/**
 * What makes the candidate's approval easier to get or longer to use than the recorded one:
 * fewer approvers, more roles or kinds that may approve, a longer life, a window over more
 * commands. The same requirement reworded (roles reordered) is no loosening.
 */
function approvalLoosening(recorded: Requirement, candidate: Requirement): string[] {
  const loosening: string[] = [];
  const number = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  const quorum = { recorded: number(recorded.quorum) ?? 1, candidate: number(candidate.quorum) ?? 1 };
  if (quorum.candidate < quorum.recorded) loosening.push(`approval quorum lowered: ${quorum.recorded} → ${quorum.candidate}`);
  const addedRoles = stringList(candidate.approver_roles).filter((role) => !stringList(recorded.approver_roles).includes(role));
  if (addedRoles.length > 0) loosening.push(`approver roles added: ${addedRoles.join(', ')}`);
  // No list: the broker's default, humans only (approvals/approval-transitions.ts).
  const kinds = (value: unknown): string[] => (Array.isArray(value) ? stringList(value) : ['human']);
  const addedKinds = kinds(candidate.approver_kinds).filter((kind) => !kinds(recorded.approver_kinds).includes(kind));
  if (addedKinds.length > 0) loosening.push(`approver kinds added: ${addedKinds.join(', ')}`);
  const ttl = { recorded: number(recorded.ttl_seconds), candidate: number(candidate.ttl_seconds) };
  if (ttl.recorded !== undefined && (ttl.candidate === undefined || ttl.candidate > ttl.recorded)) loosening.push(`approval time to live longer: ${ttl.recorded} s → ${ttl.candidate ?? 'default'} s`);
  const window = { recorded: number(recorded.window_seconds), candidate: number(candidate.window_seconds) };
  if (window.candidate !== undefined && (window.recorded === undefined || window.candidate > window.recorded)) {
    loosening.push(window.recorded === undefined ? `one approval now covers a window of ${window.candidate} s of commands` : `approval window longer: ${window.recorded} s → ${window.candidate} s`);
  }
  return loosening;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
