import type { Request, Response } from 'express';
import type { BundleStatus } from '../../policy/policy-activation.ts';
import type { RecentDifference } from '../../shadow/recent-differences.ts';
import type { ShadowStatus } from '../../shadow/shadow-policy.ts';

export interface PolicyRouteDeps {
  readonly live: () => BundleStatus;
  /** Absent when no shadow candidate is configured. */
  readonly shadow?: { status(): ShadowStatus; recent(): RecentDifference[] };
  /** The impact command for the candidate, from the time given on (the shadow's activation). */
  readonly impactCommand?: (since: string | null) => string;
}

/**
 * GET /v1/policy — the live revision and, with a shadow, the candidate's revision and status,
 * its evaluation counts and its latest differences (newest first): what the console's Policy
 * view shows as it happens.
 */
export function policyRoute(deps: PolicyRouteDeps) {
  return (_request: Request, response: Response): void => {
    const shadow = deps.shadow?.status();
    response.setHeader('Cache-Control', 'no-store');
    response.json({
      live: deps.live(),
      shadow: shadow ?? null,
      differences: deps.shadow?.recent() ?? [],
      impact_command: deps.impactCommand ? deps.impactCommand(shadow?.bundle.activatedAt ?? null) : null,
    });
  };
}
