/**
 * A SQL text as it may be recorded: every secret the credential scan finds replaced (see
 * credential-spans.ts). For texts that reach the audit trail without a decision's analysis,
 * such as the statements a PEP reports it ran (session events).
 */
import { findCredentialSpans, redactedSlice } from "./credential-spans.ts";

export function redactSqlText(sql: string): string {
  const scan = findCredentialSpans(sql);
  if (scan.spans.length === 0 && scan.withheldFrom === null) return sql;
  return redactedSlice(Buffer.from(sql, "utf8"), scan);
}

/** The same for a statement a session reported: SQL texts only, other protocols as they came. */
export function withoutSqlSecrets<E extends { protocol: string; event: string; statement?: { text: string } }>(event: E): E {
  if (event.protocol !== "sql" || event.event !== "session.statement" || event.statement === undefined) return event;
  const text = redactSqlText(event.statement.text);
  return text === event.statement.text ? event : { ...event, statement: { ...event.statement, text } };
}
