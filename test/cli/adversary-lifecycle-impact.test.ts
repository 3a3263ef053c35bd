// Adversarial review of `portcullis policy impact` as a CI gate (issue 15): a policy author
// sneaks a loosening past it as a weaker approval or an obligation dropped, or ships a candidate
// that fails when evaluated, which the analysis must not read as "tightening, exit 0".
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decisionChange, type ReplayOutcome } from '@portcullis/pdp';
import { changedIds, recordRun, type Body, type RecordedRun } from './support/policy-impact-run.ts';

describe('adversary: policy impact on a recorded run, candidates that loosen quietly or break', () => {
  let recorded: RecordedRun;

  before(async () => {
    recorded = await recordRun();
  });
  after(async () => {
    await recorded?.pdp.close();
    if (recorded) rmSync(recorded.work, { recursive: true, force: true });
  });

  it('an approval anybody with the reader role may give, for a day: loosening, exit 1', async () => {
    const folder = recorded.candidate('weaker-approval', (data) => {
      data.approval_rules.default.approver_roles = ['approver', 'reader'];
      data.approval_rules.default.ttl_seconds = 86_400;
    });
    const { run, report } = await recorded.impactJson(['--bundle', folder]);
    assert.equal(run.code, 1, `${run.stderr}\n${JSON.stringify(report.changes, null, 1)}`);
    assert.deepEqual(changedIds(report), recorded.named('writerDelete'));
    const [change] = report.changes as Body[];
    assert.deepEqual(change!.change.kinds, ['approval requirement changed']);
    assert.deepEqual(change!.change.loosening, ['approver roles added: reader', 'approval time to live longer: 900 s → 86400 s']);
  });

  it('one approval made to cover an hour of commands: loosening, exit 1', async () => {
    const folder = recorded.candidate('window-approval', (data) => {
      data.approval_rules.default.window_seconds = 3600;
    });
    const { run, report } = await recorded.impactJson(['--bundle', folder]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual((report.changes as Body[])[0]!.change.loosening, ['one approval now covers a window of 3600 s of commands']);
  });

  it('a candidate whose evaluation fails on the recorded deletes is not a tightening: those decisions are not evaluated, exit 3', async () => {
    const folder = recorded.candidate('conflicting', () => {});
    // Two values for one complete rule when a DELETE is judged: opa-wasm fails the evaluation.
    writeFileSync(join(folder, 'portcullis', 'adversary_conflict.rego'), [
      'package portcullis.sql',
      'import rego.v1',
      'findings contains {"effect": "deny", "code": adversary_code, "message": "conflict"} if contains(lower(input.action.sql), "delete")',
      'adversary_code := "one" if input.action.type == "sql"',
      'adversary_code := "two" if input.action.type == "sql"',
      '',
    ].join('\n'));
    const { run, report } = await recorded.impactJson(['--bundle', folder]);
    assert.equal(run.code, 3, `${run.stderr}\n${JSON.stringify(report.totals)}`);
    assert.equal(report.totals.skipped, 3, JSON.stringify(report.skipped, null, 1));
    assert.ok((report.skipped as Body[]).every((skipped) => /the candidate's evaluation failed/.test(skipped.reason)), JSON.stringify(report.skipped, null, 1));
    assert.deepEqual(report.changes, [], 'a failed evaluation is no change in either direction');
    assert.match(report.verdict, /INCOMPLETE/);
  });
});

describe('adversary: obligations and approvals a candidate weakens are loosenings (the impact diff model)', () => {
  const outcome = (effect: ReplayOutcome['effect'], extra: Partial<ReplayOutcome> = {}): ReplayOutcome => ({
    effect,
    reasons: [{ code: `${effect}-reason`, message: 'm' }],
    obligations: { mask: [], record: true },
    ...extra,
  });
  const approval = (extra: Record<string, unknown> = {}) => ({ quorum: 2, approver_roles: ['approver'], ttl_seconds: 900, ...extra });

  it('an MCP tool no longer hidden from the principal loosens', () => {
    const change = decisionChange(
      outcome('allow', { obligations: { mask: [], record: true, hidden_tools: ['drop_table', 'shell'] } }),
      outcome('allow', { obligations: { mask: [], record: true, hidden_tools: ['shell'] } }),
    )!;
    assert.deepEqual(change.kinds, ['obligations changed']);
    assert.deepEqual(change.loosening, ['tool no longer hidden: drop_table']);
  });

  it('mask_complete turned on loosens (view columns traced to masks instead of redacted); turned off does not', () => {
    const off = outcome('allow');
    const on = outcome('allow', { obligations: { mask: [], record: true, mask_complete: true } });
    assert.deepEqual(decisionChange(off, on)!.loosening, ['mask_complete: view columns traced to masks instead of redacted']);
    assert.deepEqual(decisionChange(on, off)!.loosening, []);
  });

  it('a lower quorum, an approver kind added (agents), a longer life loosen; the stricter direction does not', () => {
    const recorded = outcome('approval_required', { approval: approval() });
    const weaker = outcome('approval_required', { approval: approval({ quorum: 1, approver_kinds: ['human', 'agent'], ttl_seconds: 3600 }) });
    assert.deepEqual(decisionChange(recorded, weaker)!.loosening, ['approval quorum lowered: 2 → 1', 'approver kinds added: agent', 'approval time to live longer: 900 s → 3600 s']);
    assert.deepEqual(decisionChange(weaker, recorded)!.loosening, []);
    const reordered = outcome('approval_required', { approval: approval({ approver_roles: ['approver'], approver_kinds: ['human'] }) });
    assert.deepEqual(decisionChange(recorded, reordered)!.loosening, [], 'humans only is the default: naming it is no loosening');
  });
});
