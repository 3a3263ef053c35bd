// A recorded run for the policy impact suites: a PDP serving a copy of the starter pack as a
// Rego folder, six decisions of known effects, and candidates made from the same copy with a
// known change in their data. Runs the real `portcullis policy impact` as a child process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteOrder, readOrders } from '../../approvals/approval-fixtures.ts';
import { installedOpa, startTestPdp, type TestPdp } from '../../support/pdp-harness.ts';
import { REPOSITORY_ROOT } from '../../support/repository-root.ts';
import { CLI } from './approvals-cli.ts';
import { auditBodyOf } from '@portcullis/pdp';

export type Body = Record<string, any>;

export interface ImpactRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The decisions of the run, by the name the suites give them, and the effect each got. */
export const RECORDED_EFFECTS = {
  read: 'allow',
  readEmail: 'allow',
  readerDelete: 'deny',
  writerDelete: 'approval_required',
  stagingDelete: 'allow',
  unverified: 'deny',
} as const;
export type DecisionName = keyof typeof RECORDED_EFFECTS;

export interface RecordedRun {
  readonly pdp: TestPdp;
  /** A scratch folder for candidates and copies (removed by the suite). */
  readonly work: string;
  /** The Rego folder the PDP served. */
  readonly baseline: string;
  readonly ids: Readonly<Record<DecisionName, string>>;
  /** Decision ids of the named decisions, sorted. */
  named(...names: DecisionName[]): string[];
  /** A copy of the served folder with its data edited. */
  candidate(name: string, edit: (data: Body) => void): string;
  /** Production changes need no approval, and users.email is no longer masked. */
  loosening(): string;
  /** Staging changes need an approval. */
  tightening(): string;
  impact(args: string[], env?: Record<string, string>): Promise<ImpactRun>;
  /** `--format json`, parsed. */
  impactJson(args: string[]): Promise<{ run: ImpactRun; report: Body }>;
}

export const bodyOf = (record: Record<string, unknown>): Body => auditBodyOf(record) as Body;
export const changedIds = (report: Body): string[] => (report.changes as Body[]).map((change) => change.decisionId).sort();

export async function recordRun(env: Record<string, string> = {}): Promise<RecordedRun> {
  const opa = installedOpa();
  const work = mkdtempSync(join(tmpdir(), 'portcullis-impact-test-'));
  const baseline = join(work, 'baseline');
  cpSync(join(REPOSITORY_ROOT, 'policies', 'portcullis'), join(baseline, 'portcullis'), { recursive: true });
  const pdp = await startTestPdp({ PORTCULLIS_POLICY_DIR: baseline, ...env });
  const reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
  const writer = await pdp.token({ sub: 'agent-writer', roles: ['reader', 'writer'] });
  const requests: Record<DecisionName, unknown> = {
    read: readOrders(reader),
    readEmail: { ...readOrders(reader), action: { type: 'sql', sql: 'SELECT id, email FROM users' } },
    readerDelete: deleteOrder(reader),
    writerDelete: deleteOrder(writer, 9),
    stagingDelete: { ...deleteOrder(writer, 3), resource: { type: 'postgres', name: 'analytics-db', environment: 'staging' } },
    unverified: readOrders('not-a-token'),
  };
  const ids = {} as Record<DecisionName, string>;
  for (const [name, request] of Object.entries(requests) as [DecisionName, unknown][]) {
    const answer = await pdp.decide(request);
    assert.equal(answer.body.effect, RECORDED_EFFECTS[name], `${name}: ${JSON.stringify(answer.body)}`);
    ids[name] = answer.body.decision_id as string;
  }
  const candidate = (name: string, edit: (data: Body) => void): string => {
    const folder = join(work, name);
    cpSync(baseline, folder, { recursive: true });
    const file = join(folder, 'portcullis', 'data.json');
    const data = JSON.parse(readFileSync(file, 'utf8')) as Body;
    edit(data);
    writeFileSync(file, JSON.stringify(data));
    return folder;
  };
  const impact = (args: string[], extra: Record<string, string> = {}): Promise<ImpactRun> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'policy', 'impact', ...args], {
        env: { ...process.env, PORTCULLIS_STATE_DIR: pdp.stateDir, PORTCULLIS_OPA_PATH: opa, NO_COLOR: '1', ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  return {
    pdp,
    work,
    baseline,
    ids,
    named: (...names) => names.map((name) => ids[name]).sort(),
    candidate,
    loosening: () =>
      candidate('loosening', (data) => {
        data.environments.production.changes_need_approval = false;
        delete data.sensitive_columns.users.email;
      }),
    tightening: () =>
      candidate('tightening', (data) => {
        data.environments.staging.changes_need_approval = true;
      }),
    impact,
    async impactJson(args) {
      const run = await impact([...args, '--format', 'json']);
      return { run, report: run.stdout ? (JSON.parse(run.stdout) as Body) : {} };
    },
  };
}
