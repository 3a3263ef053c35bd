/**
 * Timing printout for the SQL analyzer (not a test, no assertion):
 *   cd /work/main && node --import tsx pdp/test/sql-analyzer-timing.ts
 */
import { parseSync } from "libpg-query";
import { createSqlAnalyzer } from "../src/enrichment/sql-analyzer.ts";

const SQL = "SELECT u.email FROM users u WHERE u.id = 7; DELETE FROM orders WHERE id = 7";
const WARMUP = 5_000;
const ROUNDS = 50_000;

function microsPerCall(run: () => void): number {
  for (let i = 0; i < WARMUP; i++) run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) run();
  return Number(process.hrtime.bigint() - start) / ROUNDS / 1000;
}

const loadStart = process.hrtime.bigint();
const analyzer = await createSqlAnalyzer();
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

const parseOnly = microsPerCall(() => parseSync(SQL));
const analyze = microsPerCall(() => analyzer.analyze(SQL));
console.log(`module load: ${loadMs.toFixed(1)} ms (once)`);
console.log(`parseSync:   ${parseOnly.toFixed(1)} µs per call`);
console.log(`analyze:     ${analyze.toFixed(1)} µs per call  (${JSON.stringify(SQL)})`);
