import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureStarterBundle } from '../support/pdp-harness.ts';
import { bodyOf, changedIds, recordRun, type Body, type DecisionName, type RecordedRun } from './support/policy-impact-run.ts';

describe('portcullis policy impact: a recorded run (JSONL) evaluated with a candidate policy', () => {
  let recorded: RecordedRun;
  const times = {} as Record<DecisionName, number>;

  before(async () => {
    recorded = await recordRun();
    for (const record of await recorded.pdp.auditEvents('decisions')) {
      const name = (Object.keys(recorded.ids) as DecisionName[]).find((key) => recorded.ids[key] === bodyOf(record).decision_id);
      if (name) times[name] = record.time as number;
    }
    assert.equal(Object.keys(times).length, Object.keys(recorded.ids).length, 'every decision is on the record');
  });
  after(async () => {
    await recorded?.pdp.close();
    if (recorded) rmSync(recorded.work, { recursive: true, force: true });
  });

  it('an unchanged copy of the served folder changes no decision: exit 0, every decision evaluated', async () => {
    const { run, report } = await recorded.impactJson(['--bundle', recorded.candidate('same', () => {})]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.totals.decisions, 6);
    assert.equal(report.totals.evaluated, 6);
    assert.equal(report.totals.changed, 0);
    assert.deepEqual(report.changes, []);
    assert.match(report.verdict, /no decision changes/);
  });

  it('a tightening candidate lists exactly the decision it changes, allow→approval_required, and exits 0', async () => {
    const { run, report } = await recorded.impactJson(['--bundle', recorded.tightening()]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(changedIds(report), recorded.named('stagingDelete'));
    const [change] = report.changes as Body[];
    assert.deepEqual(change!.change.kinds.slice(0, 1), ['allow→approval_required']);
    assert.deepEqual(change!.change.loosening, []);
    assert.equal(change!.principal, 'agent-writer');
    assert.equal(change!.resource, 'postgres/analytics-db');
    assert.equal(report.totals.byKind['allow→approval_required'], 1);
    assert.equal(report.totals.loosening, 0);
  });

  it('a loosening candidate lists exactly its decisions (approval no longer required, a mask removed) and exits 1', async () => {
    const folder = recorded.loosening();
    const { run, report } = await recorded.impactJson(['--bundle', folder]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(changedIds(report), recorded.named('readEmail', 'writerDelete'));
    const byId = new Map((report.changes as Body[]).map((change) => [change.decisionId, change]));
    const unmasked = byId.get(recorded.ids.readEmail)!;
    assert.ok(unmasked.change.kinds.includes('masks changed'));
    assert.deepEqual(unmasked.change.masks, [{ target: 'users.email', recorded: 'partial' }]);
    assert.deepEqual(unmasked.change.loosening, ['mask removed: users.email']);
    const approval = byId.get(recorded.ids.writerDelete)!;
    assert.equal(approval.change.kinds[0], 'approval_required→allow');
    assert.equal(approval.recorded.effect, 'approval_required');
    assert.equal(approval.candidate.effect, 'allow');
    assert.equal(report.totals.loosening, 2);
    assert.deepEqual(
      (report.byPrincipal as Body[]).map((group) => [group.name, group.changed]),
      [
        ['agent-reader', 1],
        ['agent-writer', 1],
      ],
    );

    const allowed = await recorded.impact(['--bundle', folder, '--allow-loosening']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /2 loosening change\(s\), allowed by --allow-loosening/);
  });

  it('the terminal table names every changed decision with its transition, and the gate', async () => {
    const run = await recorded.impact(['--bundle', recorded.loosening()]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /6 decision\(s\): 6 evaluated, 4 unchanged, 2 changed \(2 loosening\)/);
    for (const name of ['readEmail', 'writerDelete'] as const) assert.ok(run.stdout.includes(recorded.ids[name]!), `${name} is listed`);
    for (const name of ['read', 'readerDelete', 'stagingDelete', 'unverified'] as const) assert.ok(!run.stdout.includes(recorded.ids[name]!), `${name} is not`);
    assert.match(run.stdout, /approval_required \(.*\) → allow/);
    assert.match(run.stdout, /mask users\.email: partial → removed/);
    assert.match(run.stdout, /by rule\/reason/);
    assert.match(run.stdout, /lets through what the recorded policy stopped/);
  });

  it('Markdown and HTML reports carry the same changes; the HTML runs no script and fetches nothing', async () => {
    const folder = recorded.loosening();
    const markdown = await recorded.impact(['--bundle', folder, '--format', 'md']);
    assert.equal(markdown.code, 1, markdown.stderr);
    assert.match(markdown.stdout, /^# Policy impact/m);
    assert.match(markdown.stdout, /\| approval_required→allow \| 1 \|/);
    for (const name of ['readEmail', 'writerDelete'] as const) assert.ok(markdown.stdout.includes(recorded.ids[name]!));
    const out = join(recorded.work, 'impact.html');
    const html = await recorded.impact(['--bundle', folder, '--format', 'html', '--out', out]);
    assert.equal(html.code, 1, html.stderr);
    assert.equal(html.stdout, '');
    assert.match(html.stderr, new RegExp(`report written to ${out}`));
    const page = readFileSync(out, 'utf8');
    assert.match(page, /^<!doctype html>/);
    assert.doesNotMatch(page, /<script|<link|src=|href=/i);
    for (const name of ['readEmail', 'writerDelete'] as const) assert.ok(page.includes(recorded.ids[name]!));
    assert.ok(!page.includes(recorded.ids.read!));
  });

  it('--principal, --resource, --from and --to narrow the decisions evaluated', async () => {
    const byPrincipal = await recorded.impactJson(['--bundle', recorded.loosening(), '--principal', 'agent-reader']);
    assert.equal(byPrincipal.run.code, 1);
    assert.deepEqual(changedIds(byPrincipal.report), recorded.named('readEmail'));
    assert.equal(byPrincipal.report.totals.evaluated, 3, 'the reader made three decisions');

    const byResource = await recorded.impactJson(['--bundle', recorded.tightening(), '--resource', 'orders-db']);
    assert.equal(byResource.run.code, 0);
    assert.equal(byResource.report.totals.evaluated, 5);
    assert.deepEqual(byResource.report.changes, []);

    const from = times.writerDelete!;
    const to = times.stagingDelete! + 1;
    const inPeriod = (name: DecisionName): boolean => times[name]! >= from && times[name]! < to;
    const period = await recorded.impactJson(['--bundle', recorded.loosening(), '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString()]);
    assert.deepEqual(changedIds(period.report), recorded.named(...(['readEmail', 'writerDelete'] as const).filter(inPeriod)));
    assert.equal(period.report.totals.evaluated, (Object.keys(times) as DecisionName[]).filter(inPeriod).length);
    assert.equal(period.run.code, 1);
  });

  it('a bundle file is read as the bundle it is: the starter bundle, built from the same sources, changes nothing', async () => {
    const { run, report } = await recorded.impactJson(['--bundle', ensureStarterBundle()]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.totals.evaluated, 6);
    assert.equal(report.totals.changed, 0);
    assert.match(report.candidate.description, /^bundle file /);
  });

  it('usage errors exit 2 and evaluate nothing', async () => {
    for (const args of [[], ['--bundle', recorded.baseline, '--format', 'pdf'], ['--bundle', recorded.baseline, '--from', 'yesterday'], ['--bundle', recorded.baseline, '--from', '2026-02-01', '--to', '2026-01-01'], ['--bundle', recorded.baseline, '--nope']]) {
      const run = await recorded.impact(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /usage:/);
      assert.equal(run.stdout, '');
    }
  });

  it('a bundle or a source that cannot be read exits 3 and says why', async () => {
    const missing = await recorded.impact(['--bundle', join(recorded.work, 'no-such-folder')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no such file or folder/);

    const broken = recorded.candidate('broken', () => {});
    writeFileSync(join(broken, 'portcullis', 'broken.rego'), 'package portcullis\n\nthis is not rego {\n');
    const build = await recorded.impact(['--bundle', broken]);
    assert.equal(build.code, 3);
    assert.match(build.stderr, /opa build failed/);

    const notBundle = join(recorded.work, 'not-a-bundle.tar.gz');
    writeFileSync(notBundle, 'hello');
    const unreadable = await recorded.impact(['--bundle', notBundle]);
    assert.equal(unreadable.code, 3);
    assert.match(unreadable.stderr, /not a readable tar\.gz/);

    const noSource = await recorded.impact(['--bundle', recorded.baseline, '--dir', join(recorded.work, 'no-audit')]);
    assert.equal(noSource.code, 3);
    assert.match(noSource.stderr, /no decisions\.jsonl/);
    assert.equal(noSource.stdout, '');
  });

  it('a decision record that cannot be rebuilt into its input is named, and the run exits 3', async () => {
    const copy = join(recorded.work, 'altered-audit');
    cpSync(join(recorded.pdp.stateDir, 'audit'), copy, { recursive: true });
    const file = join(copy, 'decisions.jsonl');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const index = lines.findIndex((line) => line.includes(recorded.ids.readerDelete!));
    const record = JSON.parse(lines[index]!) as Record<string, unknown>;
    delete bodyOf(record).pep.roles;
    lines[index] = JSON.stringify(record);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { run, report } = await recorded.impactJson(['--bundle', recorded.candidate('same-again', () => {}), '--dir', copy]);
    assert.equal(run.code, 3);
    assert.equal(report.totals.skipped, 1);
    assert.equal(report.skipped[0].decisionId, recorded.ids.readerDelete);
    assert.match(report.skipped[0].reason, /no pep\.roles/);
    assert.match(report.skipped[0].where, new RegExp(`decisions\\.jsonl line ${index + 1}$`));
    assert.match(report.verdict, /INCOMPLETE/);
  });
});
