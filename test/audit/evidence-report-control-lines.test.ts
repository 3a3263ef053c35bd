import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { evidenceReport, loadPdpConfig, type ControlLine, type EvidenceReport, type PdpConfig } from '@portcullis/pdp';
import { startTestPdp } from '../support/pdp-harness.ts';

describe('the evidence report: lines other checks add to the controls they support', () => {
  let stateDir: string;
  let config: PdpConfig;

  before(async () => {
    const pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    stateDir = pdp.stateDir;
    const reader = await pdp.token({ sub: 'agent-lines', roles: ['reader'] });
    for (const sql of ['SELECT 1', 'DELETE FROM orders']) {
      await pdp.decide({ subject_token: reader, resource: { type: 'postgres', name: 'orders-db', environment: 'staging' }, action: { type: 'sql', sql } });
    }
    await pdp.close({ keepState: true });
    config = loadPdpConfig({ PORTCULLIS_STATE_DIR: stateDir });
  });
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  const report = async (format: 'json' | 'md' | 'html', lines: readonly ControlLine[]): Promise<string> =>
    evidenceReport({}, config, { format, controlLines: async () => lines });

  it('a line is shown under each control it names, in every format, and nowhere else', async () => {
    const line: ControlLine = { controls: ['AC-3', 'AU-10'], text: 'decisions re-verified: 2 of 2', ok: true };
    const json = JSON.parse(await report('json', [line])) as EvidenceReport;
    const withLine = json.controls.filter((control) => control.lines.some((shown) => shown.text === line.text)).map((control) => control.id);
    assert.deepEqual(withLine, ['AC-3', 'AU-10']);
    assert.equal(json.controls.find((control) => control.id === 'AC-3')?.verification.ok, true);
    for (const format of ['md', 'html'] as const) assert.ok((await report(format, [line])).includes(line.text), format);
  });

  it('a line that does not hold marks its controls failed', async () => {
    const line: ControlLine = { controls: ['AC-3'], text: 'decisions re-verified: 1 of 2', ok: false };
    const json = JSON.parse(await report('json', [line])) as EvidenceReport;
    assert.equal(json.controls.find((control) => control.id === 'AC-3')?.verification.ok, false);
    assert.equal(json.controls.find((control) => control.id === 'AC-6')?.verification.ok, true);
    assert.match(await report('md', [line]), /\*\*FAILED\*\* decisions re-verified: 1 of 2/);
  });
});
