/**
 * Where a decision's time went inside the PDP, from its /metrics histograms over a run: mean
 * microseconds per decision for each stage. `delta(name)` is how much a sample grew in the run
 * (each bench reads /metrics its own way).
 */
export function decisionTimeBreakdownUs(delta: (sample: string) => number): Record<string, number> {
  const mean = (metric: string): number => {
    const count = delta(`${metric}_count`);
    return count > 0 ? (delta(`${metric}_sum`) / count) * 1e6 : 0;
  };
  const total = mean('portcullis_decision_duration_seconds');
  const token = mean('portcullis_token_verification_duration_seconds');
  const enrich = mean('portcullis_enrichment_duration_seconds');
  const roundTrip = mean('portcullis_policy_round_trip_duration_seconds');
  const evaluate = mean('portcullis_policy_eval_duration_seconds');
  return {
    total_in_core: total,
    token_verification: token,
    enrichment: enrich,
    policy_eval_in_wasm: evaluate,
    // Thread hand-off and queueing for a policy worker, not evaluation.
    waiting_for_the_policy_answer: Math.max(0, roundTrip - evaluate),
    input_build_audit_other: Math.max(0, total - token - enrich - roundTrip),
  };
}
