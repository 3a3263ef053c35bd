/**
 * Waits until a PDP's Kafka audit sink has shipped its spool (every record acknowledged by the
 * broker), from its /health detail; a PDP with another sink has no spool and returns at once.
 */
export async function waitForAuditDrain(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${url}/health`)).json()) as { audit?: { details?: { spool_bytes?: number } } };
    if ((health.audit?.details?.spool_bytes ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the Kafka audit sink of ${url} did not drain its spool within ${timeoutMs} ms`);
}

interface AuditHealth {
  readonly queued?: number;
  readonly written?: number;
  readonly details?: { spool_bytes?: number };
}

/**
 * Waits (bounded) until a PDP's audit records have all landed: nothing queued, nothing spooled,
 * and no new record written for `quietMs` (PEPs ship session records in batches after the fact).
 * Resolves to the seconds until the last record was written.
 */
export async function settleAuditRecords(url: string, timeoutMs = 120_000, quietMs = 2000): Promise<number> {
  const started = Date.now();
  let last = -1;
  let lastChange = started;
  while (Date.now() < started + timeoutMs) {
    const audit = ((await (await fetch(`${url}/health`)).json()) as { audit: AuditHealth }).audit;
    if ((audit.written ?? 0) !== last) {
      last = audit.written ?? 0;
      lastChange = Date.now();
    } else if ((audit.queued ?? 0) === 0 && (audit.details?.spool_bytes ?? 0) === 0 && Date.now() - lastChange >= quietMs) {
      return (lastChange - started) / 1000;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the audit records of ${url} were still arriving ${timeoutMs} ms after the run`);
}
