import { createSqlAnalyzer } from "./src/enrichment/sql-analyzer.ts";
const a = await createSqlAnalyzer();
for (const q of process.argv.slice(2)) console.log(q, JSON.stringify(a.analyze(q), null, 0));
