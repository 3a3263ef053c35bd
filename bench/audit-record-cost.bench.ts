/**
 * npm run bench:audit-record [-- --baseline DIR] — the audit thread's CPU per record: what it does
 * for every event it is handed (parse the event's JSON, map it to OCSF with credentials redacted,
 * link it into its stream's hash chain, serialise the line), on a mix of decision, session and
 * approval events. The named baseline in the same run is a plain JSON round trip of the same
 * events (parse + stringify); with `--baseline DIR`, another checkout of Portcullis (installed)
 * is measured too, rounds alternating, for an A/B of two builds of the audit code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { HTTP_POST, K8S_DELETE, SHELL_CURL, approvalEvent, decisionEvent, sessionStatementEvent, sessionStatementsEvent, sqlAction } from '../pdp/test/audit-fixtures.ts';

const { values: args } = parseArgs({ options: { baseline: { type: 'string' }, rounds: { type: 'string', default: '7' }, repeat: { type: 'string', default: '200' } } });
const ROUNDS = Number(args.rounds);
const say = (message: string): void => console.error(`[bench:audit-record] ${message}`);

/** One checkout's per-record work, loaded from its own sources. */
interface AuditCode {
  readonly name: string;
  readonly recordLine: (eventJson: string) => string;
}

async function auditCode(name: string, root: string): Promise<AuditCode> {
  const { toOcsfRecord } = await import(`${root}/pdp/src/audit/ocsf/ocsf-record.ts`);
  const { HashChain } = await import(`${root}/pdp/src/audit/trail/hash-chain.ts`);
  const { redactSqlText } = await import(`${root}/pdp/src/enrichment/sql/sql-text-redaction.ts`);
  const product = { version: '0.1.0', redactSqlText };
  const chain = new HashChain(`pdp-bench-${name}`);
  // Builds before the line was written from the canonical text serialised the linked record again.
  const recordLine = typeof chain.linkLine === 'function'
    ? (eventJson: string) => { const event = JSON.parse(eventJson); return chain.linkLine(event.stream, toOcsfRecord(event, product)).line as string; }
    : (eventJson: string) => { const event = JSON.parse(eventJson); return JSON.stringify(chain.link(event.stream, toOcsfRecord(event, product))); };
  return { name, recordLine };
}

function eventMix(): string[] {
  const events = [
    decisionEvent(),
    decisionEvent({ action: sqlAction("UPDATE orders SET status = 'shipped' WHERE id = 42", 'update') }),
    decisionEvent({ effect: 'deny', action: K8S_DELETE }),
    decisionEvent({ effect: 'approval_required', action: SHELL_CURL }),
    decisionEvent({ action: HTTP_POST, mask: [{ table: 'users', column: 'email', strategy: 'redact' }] }),
    sessionStatementEvent('SELECT id, email FROM users WHERE id = 7', 1),
    sessionStatementsEvent(Array.from({ length: 20 }, (_, index) => `SELECT * FROM orders WHERE id = ${index}`)),
    approvalEvent('approval.approved', ['bob']),
  ];
  const texts: string[] = [];
  for (let index = 0; index < Number(args.repeat); index += 1) for (const event of events) texts.push(JSON.stringify(event));
  return texts;
}

/** CPU µs per event (user + system of this process), median of the rounds. */
function measure(work: (text: string) => number, texts: readonly string[]): number {
  const before = process.cpuUsage();
  let bytes = 0;
  for (const text of texts) bytes += work(text);
  const used = process.cpuUsage(before);
  if (bytes === 0) throw new Error('nothing was serialised');
  return (used.user + used.system) / texts.length;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const texts = eventMix();
  const codes = [await auditCode('this tree', REPOSITORY_ROOT)];
  if (args.baseline) codes.push(await auditCode(`baseline ${args.baseline}`, resolve(args.baseline)));
  const roundTrip = (text: string): number => JSON.stringify(JSON.parse(text)).length;
  const runs = new Map<string, number[]>([['JSON round trip', []], ...codes.map((code) => [code.name, []] as [string, number[]])]);
  say(`${texts.length} events a round (8 kinds), ${ROUNDS} rounds after a warm-up, alternating…`);
  for (const code of codes) measure((text) => code.recordLine(text).length, texts);
  for (let round = 1; round <= ROUNDS; round += 1) {
    runs.get('JSON round trip')!.push(measure(roundTrip, texts));
    for (const code of codes) runs.get(code.name)!.push(measure((text) => code.recordLine(text).length, texts));
  }
  const baseline = median(runs.get('JSON round trip')!);
  console.log(`\nAudit thread, CPU per record (parse, OCSF mapping, redaction, hash chain, line), median of ${ROUNDS} rounds`);
  console.log(`${'work'.padEnd(48)} ${'µs/record'.padStart(10)} ${'× JSON round trip'.padStart(18)}`);
  for (const [name, values] of runs) console.log(`${name.padEnd(48)} ${median(values).toFixed(1).padStart(10)} ${(median(values) / baseline).toFixed(2).padStart(18)}`);
  const medians = Object.fromEntries([...runs].map(([name, values]) => [name, median(values)]));
  let ratio: number | undefined;
  if (codes.length === 2) {
    const [now, before] = codes.map((code) => median(runs.get(code.name)!));
    ratio = now! / before!;
    console.log(`\nratio this tree / baseline, CPU per record: ${ratio.toFixed(2)}`);
  }
  mkdirSync(join(REPOSITORY_ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(REPOSITORY_ROOT, 'bench/results/audit-record-cost.json'), `${JSON.stringify({ events_per_round: texts.length, rounds: ROUNDS, cpu_us_per_record: medians, runs: Object.fromEntries(runs), ratio_to_baseline: ratio ?? null }, null, 2)}\n`);
}

await main();
