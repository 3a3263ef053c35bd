import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { eventually } from '../support/eventually.ts';

/**
 * Which MCP tool arguments the PDP analyses is policy data: it follows the bundle that is active,
 * so an edit naming a tool's SQL argument makes the next call of it meet the SQL rules.
 */
describe('the MCP tool arguments analysed follow the active bundle', () => {
  let pdp: TestPdp;
  let folder: string;
  let reader: string;
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'portcullis-mcp-rules-policy-'));
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(folder, 'portcullis'), { recursive: true });
    pdp = await startTestPdp({ PORTCULLIS_POLICY_DIR: folder });
    reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
  });
  after(async () => {
    await pdp?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  const runSql = async () =>
    (await pdp.decide({
      subject_token: reader,
      resource: { type: 'mcp', name: 'mcp-db', environment: 'staging' },
      action: { type: 'mcp', method: 'tools/call', tool: 'run_sql', arguments: { sql: 'DELETE FROM orders' }, annotations: { readOnlyHint: true } },
    })).body as { effect: string; reasons: { code: string }[] };

  it('judges a tool by its annotations until data names its SQL argument, then by the SQL rules', async () => {
    const unnamed = await runSql();
    assert.equal(unnamed.effect, 'allow', 'a tool the server calls read-only, whose arguments no data names');
    assert.deepEqual(unnamed.reasons.map((reason) => reason.code), ['mcp-tool-read-only']);

    const rulesFile = join(folder, 'portcullis/mcp_rules/data.json');
    const rules = JSON.parse(readFileSync(rulesFile, 'utf8')) as { tool_arguments: Record<string, Record<string, unknown>> };
    rules.tool_arguments['mcp-db']!.run_sql = { sql: 'sql' };
    writeFileSync(rulesFile, JSON.stringify(rules, null, 2));

    // A call enriched just before the swap and decided just after it is refused as unanalysed
    // (fail closed); once the enricher has the new data, the SQL analyzer's facts decide.
    const named = await eventually('the edited tool_arguments to take effect', async () => {
      const decision = await runSql();
      return decision.reasons.some((reason) => reason.code === 'sql-delete-without-where') && decision;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    assert.equal(named.effect, 'deny');
    assert.ok(!named.reasons.some((reason) => reason.code === 'mcp-argument-not-analysed'), JSON.stringify(named.reasons));
  });
});
