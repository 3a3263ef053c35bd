/** What an audit record is about: its stream, and the event a producer hands to the audit trail. */

/** `shadow`: where a candidate policy evaluated beside the live one would have answered differently (pdp/src/shadow/). */
export type AuditStream = 'decisions' | 'sessions' | 'approvals' | 'shadow';

export const AUDIT_STREAMS: readonly AuditStream[] = ['decisions', 'sessions', 'approvals', 'shadow'];

/** What the decision core hands to the audit trail: a stream, an ordering key, a flat body. */
export interface AuditEvent {
  readonly stream: AuditStream;
  /** Orders events of one session; the Kafka sink keys messages by it. */
  readonly key: string;
  readonly body: Record<string, unknown>;
}
