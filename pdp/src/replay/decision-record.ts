import { asObject, asString, type JsonObject } from '../audit/json-fields.ts';
import { auditBodyOf } from '../audit/ocsf/portcullis-body.ts';

/** A decision record read back from the trail: its body (whole, from `auditBodyOf`) and its name. */
export interface DecisionRecord {
  readonly decisionId: string;
  /** Epoch milliseconds (the OCSF `time`). */
  readonly time: number;
  readonly revision: string | null;
  readonly body: JsonObject;
}

/** The record's decision body, or undefined for anything else (a Data API query, a digest, garbage). */
export function decisionRecordOf(record: unknown): DecisionRecord | undefined {
  const body = auditBodyOf(record);
  if (body?.event !== 'decision') return undefined;
  const time = asObject(record)?.time;
  return {
    decisionId: asString(body.decision_id) ?? 'unknown',
    time: typeof time === 'number' ? time : Number.NaN,
    revision: asString(body.policy_revision) ?? null,
    body,
  };
}

/** A decision record that lacks what replaying it needs (written before records kept it, or altered). */
export class UnreplayableRecordError extends Error {
  override name = 'UnreplayableRecordError';
}
