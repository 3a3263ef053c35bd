import type { DecisionAnswer } from '@portcullis/pep-core';
import type { Impersonation } from '../upstream/kube-upstream.ts';
import type { KubeMask } from './kube-masks.ts';

export interface ImpersonationSettings {
  readonly enabled: boolean;
  readonly userPrefix: string;
  readonly groupPrefix: string;
  readonly extraGroups: readonly string[];
}

/**
 * Who the API server is told is asking, from the principal the PDP verified (never from what the
 * client said): `<userPrefix><sub>` with each role as `<groupPrefix><role>`. `undefined` when
 * impersonation is off; `null` when it is on but the answer names no subject (refused).
 */
export function impersonationFor(settings: ImpersonationSettings, answer: DecisionAnswer<KubeMask>): Impersonation | null | undefined {
  if (!settings.enabled) return undefined;
  const { sub, roles } = answer.principal;
  if (!answer.principal.authenticated || typeof sub !== 'string' || sub === '') return null;
  return { user: `${settings.userPrefix}${sub}`, groups: [...(roles ?? []).map((role) => `${settings.groupPrefix}${role}`), ...settings.extraGroups] };
}
