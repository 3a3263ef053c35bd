import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deleteOrder, readOrders } from '../approvals/approval-fixtures.ts';
import { ensureStarterBundle, installedOpa, startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { CLI } from './support/approvals-cli.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

type Body = Record<string, any>;
const bodyOf = (record: Record<string, unknown>): Body => (record as { unmapped: { portcullis: Body } }).unmapped.portcullis;

describe('portcullis policy impact: a recorded run evaluated with a candidate policy', () => {
  let pdp: TestPdp;
  let work: string;
  let baseline: string;
  let opa: string;
  /** Decision ids by the name the test gives each request. */
  const ids: Record<string, string> = {};
  const times: Record<string, number> = {};

  /** A copy of the served folder with its data edited: a candidate with a known change. */
  const candidate = (name: string, edit: (data: Body) => void): string => {
    const folder = join(work, name);
    cpSync(baseline, folder, { recursive: true });
    const file = join(folder, 'portcullis', 'data.json');
    const data = JSON.parse(readFileSync(file, 'utf8')) as Body;
    edit(data);
    writeFileSync(file, JSON.stringify(data));
    return folder;
  };
  const loosening = (): string =>
    candidate('loosening', (data) => {
      data.environments.production.changes_need_approval = false;
      delete data.sensitive_columns.users.email;
    });
  const tightening = (): string =>
    candidate('tightening', (data) => {
      data.environments.staging.changes_need_approval = true;
    });

  const impact = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'policy', 'impact', ...args], {
        env: { ...process.env, PORTCULLIS_STATE_DIR: pdp.stateDir, PORTCULLIS_OPA_PATH: opa, NO_COLOR: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const json = async (args: string[]): Promise<{ run: Run; report: Body }> => {
    const run = await impact([...args, '--format', 'json']);
    return { run, report: run.stdout ? (JSON.parse(run.stdout) as Body) : {} };
  };
  const changedIds = (report: Body): string[] => (report.changes as Body[]).map((change) => change.decisionId).sort();
  const named = (...names: string[]): string[] => names.map((name) => ids[name]!).sort();

  before(async () => {
    opa = installedOpa();
    work = mkdtempSync(join(tmpdir(), 'portcullis-impact-test-'));
    baseline = join(work, 'baseline');
    cpSync(join(REPOSITORY_ROOT, 'policies', 'portcullis'), join(baseline, 'portcullis'), { recursive: true });
    pdp = await startTestPdp({ PORTCULLIS_POLICY_DIR: baseline });
    const reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
    const writer = await pdp.token({ sub: 'agent-writer', roles: ['reader', 'writer'] });
    const requests: Record<string, [unknown, string]> = {
      read: [readOrders(reader), 'allow'],
      readEmail: [{ ...readOrders(reader), action: { type: 'sql', sql: 'SELECT id, email FROM users' } }, 'allow'],
      readerDelete: [deleteOrder(reader), 'deny'],
      writerDelete: [deleteOrder(writer, 9), 'approval_required'],
      stagingDelete: [{ ...deleteOrder(writer, 3), resource: { type: 'postgres', name: 'analytics-db', environment: 'staging' } }, 'allow'],
      unverified: [readOrders('not-a-token'), 'deny'],
    };
    for (const [name, [request, effect]] of Object.entries(requests)) {
      const answer = await pdp.decide(request);
      assert.equal(answer.body.effect, effect, `${name}: ${JSON.stringify(answer.body)}`);
      ids[name] = answer.body.decision_id as string;
    }
    for (const record of await pdp.auditEvents('decisions')) {
      const name = Object.keys(ids).find((key) => ids[key] === bodyOf(record).decision_id);
      if (name) times[name] = record.time as number;
    }
    assert.equal(Object.keys(times).length, Object.keys(ids).length, 'every decision is on the record');
  });
  after(async () => {
    await pdp?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('an unchanged copy of the served folder changes no decision: exit 0, every decision evaluated', async () => {
    const { run, report } = await json(['--bundle', candidate('same', () => {})]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.totals.decisions, 6);
    assert.equal(report.totals.evaluated, 6);
    assert.equal(report.totals.changed, 0);
    assert.deepEqual(report.changes, []);
    assert.match(report.verdict, /no decision changes/);
  });

  it('a tightening candidate lists exactly the decision it changes, allow→approval_required, and exits 0', async () => {
    const { run, report } = await json(['--bundle', tightening()]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(changedIds(report), named('stagingDelete'));
    const [change] = report.changes as Body[];
    assert.deepEqual(change!.change.kinds.slice(0, 1), ['allow→approval_required']);
    assert.deepEqual(change!.change.loosening, []);
    assert.equal(change!.principal, 'agent-writer');
    assert.equal(change!.resource, 'postgres/analytics-db');
    assert.equal(report.totals.byKind['allow→approval_required'], 1);
    assert.equal(report.totals.loosening, 0);
  });

  it('a loosening candidate lists exactly its decisions (approval no longer required, a mask removed) and exits 1', async () => {
    const folder = loosening();
    const { run, report } = await json(['--bundle', folder]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(changedIds(report), named('readEmail', 'writerDelete'));
    const byId = new Map((report.changes as Body[]).map((change) => [change.decisionId, change]));
    const unmasked = byId.get(ids.readEmail)!;
    assert.ok(unmasked.change.kinds.includes('masks changed'));
    assert.deepEqual(unmasked.change.masks, [{ target: 'users.email', recorded: 'partial' }]);
    assert.deepEqual(unmasked.change.loosening, ['mask removed: users.email']);
    const approval = byId.get(ids.writerDelete)!;
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

    const allowed = await impact(['--bundle', folder, '--allow-loosening']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /2 loosening change\(s\), allowed by --allow-loosening/);
  });

  it('the terminal table names every changed decision with its transition, and the gate', async () => {
    const run = await impact(['--bundle', loosening()]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /6 decision\(s\): 6 evaluated, 4 unchanged, 2 changed \(2 loosening\)/);
    for (const name of ['readEmail', 'writerDelete']) assert.ok(run.stdout.includes(ids[name]!), `${name} is listed`);
    for (const name of ['read', 'readerDelete', 'stagingDelete', 'unverified']) assert.ok(!run.stdout.includes(ids[name]!), `${name} is not`);
    assert.match(run.stdout, /approval_required \(.*\) → allow/);
    assert.match(run.stdout, /mask users\.email: partial → removed/);
    assert.match(run.stdout, /by rule\/reason/);
    assert.match(run.stdout, /lets through what the recorded policy stopped/);
  });

  it('Markdown and HTML reports carry the same changes; the HTML runs no script and fetches nothing', async () => {
    const folder = loosening();
    const markdown = await impact(['--bundle', folder, '--format', 'md']);
    assert.equal(markdown.code, 1, markdown.stderr);
    assert.match(markdown.stdout, /^# Policy impact/m);
    assert.match(markdown.stdout, /\| approval_required→allow \| 1 \|/);
    for (const name of ['readEmail', 'writerDelete']) assert.ok(markdown.stdout.includes(ids[name]!));
    const out = join(work, 'impact.html');
    const html = await impact(['--bundle', folder, '--format', 'html', '--out', out]);
    assert.equal(html.code, 1, html.stderr);
    assert.equal(html.stdout, '');
    assert.match(html.stderr, new RegExp(`report written to ${out}`));
    const page = readFileSync(out, 'utf8');
    assert.match(page, /^<!doctype html>/);
    assert.doesNotMatch(page, /<script|<link|src=|href=/i);
    for (const name of ['readEmail', 'writerDelete']) assert.ok(page.includes(ids[name]!));
    assert.ok(!page.includes(ids.read!));
  });

  it('--principal, --resource, --from and --to narrow the decisions evaluated', async () => {
    const byPrincipal = await json(['--bundle', loosening(), '--principal', 'agent-reader']);
    assert.equal(byPrincipal.run.code, 1);
    assert.deepEqual(changedIds(byPrincipal.report), named('readEmail'));
    assert.equal(byPrincipal.report.totals.evaluated, 3, 'the reader made three decisions');

    const byResource = await json(['--bundle', tightening(), '--resource', 'orders-db']);
    assert.equal(byResource.run.code, 0);
    assert.equal(byResource.report.totals.evaluated, 5);
    assert.deepEqual(byResource.report.changes, []);

    const from = times.writerDelete!;
    const to = times.stagingDelete! + 1;
    const inPeriod = (name: string): boolean => times[name]! >= from && times[name]! < to;
    const period = await json(['--bundle', loosening(), '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString()]);
    assert.deepEqual(changedIds(period.report), named(...['readEmail', 'writerDelete'].filter(inPeriod)));
    assert.equal(period.report.totals.evaluated, Object.keys(times).filter(inPeriod).length);
    assert.equal(period.run.code, 1);
  });

  it('a bundle file is read as the bundle it is: the starter bundle, built from the same sources, changes nothing', async () => {
    const { run, report } = await json(['--bundle', ensureStarterBundle()]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.totals.evaluated, 6);
    assert.equal(report.totals.changed, 0);
    assert.match(report.candidate.description, /^bundle file /);
  });

  it('usage errors exit 2 and evaluate nothing', async () => {
    for (const args of [[], ['--bundle', baseline, '--format', 'pdf'], ['--bundle', baseline, '--from', 'yesterday'], ['--bundle', baseline, '--from', '2026-02-01', '--to', '2026-01-01'], ['--bundle', baseline, '--nope']]) {
      const run = await impact(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /usage:/);
      assert.equal(run.stdout, '');
    }
  });

  it('a bundle or a source that cannot be read exits 3 and says why', async () => {
    const missing = await impact(['--bundle', join(work, 'no-such-folder')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no such file or folder/);

    const broken = candidate('broken', () => {});
    writeFileSync(join(broken, 'portcullis', 'broken.rego'), 'package portcullis\n\nthis is not rego {\n');
    const build = await impact(['--bundle', broken]);
    assert.equal(build.code, 3);
    assert.match(build.stderr, /opa build failed/);

    const notBundle = join(work, 'not-a-bundle.tar.gz');
    writeFileSync(notBundle, 'hello');
    const unreadable = await impact(['--bundle', notBundle]);
    assert.equal(unreadable.code, 3);
    assert.match(unreadable.stderr, /not a readable tar\.gz/);

    const noSource = await impact(['--bundle', baseline, '--dir', join(work, 'no-audit')]);
    assert.equal(noSource.code, 3);
    assert.match(noSource.stderr, /no decisions\.jsonl/);
    assert.equal(noSource.stdout, '');
  });

  it('a decision record that cannot be rebuilt into its input is named, and the run exits 3', async () => {
    const copy = join(work, 'altered-audit');
    cpSync(join(pdp.stateDir, 'audit'), copy, { recursive: true });
    const file = join(copy, 'decisions.jsonl');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const index = lines.findIndex((line) => line.includes(ids.readerDelete!));
    const record = JSON.parse(lines[index]!) as Record<string, unknown>;
    delete bodyOf(record).pep.roles;
    lines[index] = JSON.stringify(record);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { run, report } = await json(['--bundle', candidate('same-again', () => {}), '--dir', copy]);
    assert.equal(run.code, 3);
    assert.equal(report.totals.skipped, 1);
    assert.equal(report.skipped[0].decisionId, ids.readerDelete);
    assert.match(report.skipped[0].reason, /no pep\.roles/);
    assert.match(report.skipped[0].where, new RegExp(`decisions\\.jsonl line ${index + 1}$`));
    assert.match(report.verdict, /INCOMPLETE/);
  });
});
