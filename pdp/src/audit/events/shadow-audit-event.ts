import { randomUUID } from 'node:crypto';
import type { EffectV1, ObligationsV1, ReasonV1 } from '@portcullis/contract';
import type { AuditEvent } from '../audit-event.ts';

/** What a difference record names of policy's change (pdp/src/shadow/outcome-difference.ts computes it). */
export type ShadowChange = 'effect' | 'reasons' | 'masks' | 'obligations' | 'approval';

export interface ShadowDifferenceInput {
  /** The decision whose input the shadow evaluated: its record holds the action, the live answer and its reasons. */
  readonly decisionId: string;
  readonly changes: readonly ShadowChange[];
  readonly live: { readonly revision: string; readonly effect: EffectV1 };
  /** The shadow's whole outcome: the decision record has nothing of it. */
  readonly shadow: {
    readonly revision: string;
    readonly effect: EffectV1;
    readonly reasons: readonly ReasonV1[];
    readonly obligations: ObligationsV1;
    readonly approval?: object;
  };
  /** Who and where, so a reader of this stream alone (a SIEM, the console) can filter without a join. */
  readonly principalSub: string | null;
  readonly resource: { readonly type: string; readonly name: string };
  readonly actionType: string;
}

/**
 * The record of one difference between the live policy and the shadow candidate on the same
 * input. Only what the decision record lacks is kept (the shadow's outcome); the action itself
 * is found through `decision_id`, so a difference costs a few hundred bytes, not a second copy
 * of every command.
 */
export function buildShadowDifferenceEvent(input: ShadowDifferenceInput): AuditEvent {
  const { shadow } = input;
  return {
    stream: 'shadow',
    key: input.decisionId,
    body: {
      event: 'shadow.difference',
      schema_version: 1,
      event_id: randomUUID(),
      decision_id: input.decisionId,
      time: new Date().toISOString(),
      changes: input.changes,
      principal: input.principalSub === null ? { authenticated: false } : { sub: input.principalSub },
      resource: { type: input.resource.type, name: input.resource.name },
      action_type: input.actionType,
      live: { revision: input.live.revision, effect: input.live.effect },
      shadow: {
        revision: shadow.revision,
        effect: shadow.effect,
        reasons: shadow.reasons,
        obligations: shadow.obligations,
        ...(shadow.approval ? { approval_requirement: shadow.approval } : {}),
      },
    },
  };
}
