import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { auditCli } from '../support/audit-cli.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { ensureStarterBundle } from '../support/pdp-harness.ts';
import { eventually } from '../support/eventually.ts';
import { auditBodyOf } from '@portcullis/pdp';

const run = promisify(execFile);
const CLI = join(REPOSITORY_ROOT, 'pdp/bin/portcullis.mjs');
const CLIENTS = 16;

interface PdpProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Resolves with the exit signal or code. */
  readonly exited: Promise<string>;
  /** What it printed on stderr so far. */
  readonly log: () => string;
}

/** Every PDP process a test started: any still running when the suite ends is killed, so a failed assertion cannot keep this file from ending. */
const started: ChildProcess[] = [];

/** `portcullis serve` as its own process, on a free port, on the given state folder. */
async function startPdpProcess(env: NodeJS.ProcessEnv): Promise<PdpProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], { cwd: REPOSITORY_ROOT, env: { ...process.env, ...env, PORTCULLIS_PORT: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 120 s:\n${log}`)), 120_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((why) => reject(new Error(`the PDP exited (${why}) before listening:\n${log}`)));
  });
  return { child, url, exited, log: () => log };
}

describe('an answered allow is never lost: a PDP killed under load keeps the record of every allow it answered', () => {
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  let pepToken: string;
  let agentToken: string;

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'portcullis-crash-'));
    env = { PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_BUNDLE_FILE: ensureStarterBundle(), PORTCULLIS_POLICY_WORKERS: '1', PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1', PORTCULLIS_HEALTH_DETAIL_AUTH: 'false' };
    const token = async (...args: string[]): Promise<string> => (await run(process.execPath, [CLI, 'token', ...args], { cwd: REPOSITORY_ROOT, env: { ...process.env, ...env } })).stdout.trim();
    pepToken = await token('--sub', 'pep-orders-db', '--role', 'pep', '--resource', 'orders-db', '--ttl', '1h');
    agentToken = await token('--sub', 'agent-7', '--role', 'reader', '--ttl', '1h');
  });
  after(() => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  const decide = async (url: string, index: number): Promise<{ decision_id: string; effect: string; reasons: { code: string }[] }> => {
    const response = await fetch(`${url}/v1/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pepToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        subject_token: agentToken,
        resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
        action: { type: 'sql', sql: `SELECT id, status FROM orders WHERE id = ${index}` },
        session: { id: `crash-${index % CLIENTS}` },
      }),
    });
    assert.equal(response.status, 200);
    return (await response.json()) as { decision_id: string; effect: string; reasons: { code: string }[] };
  };

  /** The PEP's report that the allowed statement ran: accepted (202) only once it is durable. */
  const reportStatement = async (url: string, index: number, decisionId: string): Promise<string | undefined> => {
    const eventId = randomUUID();
    const response = await fetch(`${url}/v1/sessions/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pepToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [{
          event: 'session.statement', event_id: eventId, time: new Date().toISOString(), subject_token: agentToken,
          session: { id: `crash-${index % CLIENTS}` }, protocol: 'sql', resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
          statement: { text: `SELECT id, status FROM orders WHERE id = ${index}`, kind: 'select' },
          decision_id: decisionId, status: 'success', duration_ms: 1, rows: 1,
        }],
      }),
    });
    await response.arrayBuffer();
    assert.equal(response.status, 202);
    return eventId;
  };

  it('16 clients, SIGKILL mid-load, restart on the same state: every allow answered before the kill is on the record, and verify calls it a crash', async () => {
    const first = await startPdpProcess(env);
    const health = (await (await fetch(`${first.url}/health`)).json()) as { audit: { durability: string } };
    assert.equal(health.audit.durability, 'sync', '/health says answers wait for durable records');

    const allowed: string[] = [];
    const reported: string[] = [];
    let killed = false;
    let answeredBeforeKill: string[] = [];
    let reportedBeforeKill: string[] = [];
    let killedOnce!: () => void;
    const killedPromise = new Promise<void>((resolve) => (killedOnce = resolve));
    const kill = (): void => {
      if (killed) return;
      killed = true;
      answeredBeforeKill = [...allowed];
      reportedBeforeKill = [...reported];
      first.child.kill('SIGKILL');
      killedOnce();
    };
    let next = 0;
    const client = async (): Promise<void> => {
      while (!killed) {
        try {
          const index = (next += 1);
          const answer = await decide(first.url, index);
          if (killed) return; // an answer that raced the kill is not counted either way
          assert.equal(answer.effect, 'allow', JSON.stringify(answer.reasons));
          allowed.push(answer.decision_id);
          // Killed the moment the 600th allow is answered: the newest answers' records are the
          // ones a PDP that answers before storing would still hold in memory.
          if (allowed.length >= 600) return kill();
          // Every other client also reports its statement as a PEP would.
          if (index % 2 === 0) {
            const eventId = await reportStatement(first.url, index, answer.decision_id);
            if (killed) return;
            if (eventId) reported.push(eventId);
          }
        } catch (error) {
          if (killed) return;
          throw error;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, () => client());
    const deadline = setTimeout(kill, 120_000);
    await killedPromise;
    clearTimeout(deadline);
    assert.equal(await first.exited, 'SIGKILL');
    await Promise.all(clients);
    assert.ok(answeredBeforeKill.length >= 600, `only ${answeredBeforeKill.length} allows in 120 s`);

    // The same state folder, a new run: it names the killed run as ended without a stop.
    const second = await startPdpProcess(env);
    assert.equal((await decide(second.url, 1)).effect, 'allow');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, '0');

    const decisions = readFileSync(join(stateDir, 'audit', 'decisions.jsonl'), 'utf8');
    const recorded = new Set(decisions.split('\n').filter(Boolean).map((line) => auditBodyOf(JSON.parse(line))?.decision_id));
    const lost = answeredBeforeKill.filter((id) => !recorded.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${answeredBeforeKill.length} answered allows have no record`);
    assert.ok(reportedBeforeKill.length >= 100, `only ${reportedBeforeKill.length} statements reported`);
    const sessions = readFileSync(join(stateDir, 'audit', 'sessions.jsonl'), 'utf8');
    const unrecorded = reportedBeforeKill.filter((eventId) => !sessions.includes(eventId));
    assert.deepEqual(unrecorded, [], `${unrecorded.length} of ${reportedBeforeKill.length} accepted session events have no record`);

    const verified = await auditCli(stateDir, 'verify', '--jwks', join(stateDir, 'audit-signing', 'jwks.json'));
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /: crashed-restarted/);
    assert.match(verified.stdout, /: stopped, /);
    assert.match(verified.stdout, /ended without a stop record \(a crash\)/);
  });

  it('a record that cannot be written is never an allow: the answer is audit-unavailable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-unwritable-'));
    try {
      // The decisions file is a folder: opening it for append fails, as a broken disk would.
      mkdirSync(join(dir, 'audit', 'decisions.jsonl'), { recursive: true });
      const pdp = await startPdpProcess({ ...env, PORTCULLIS_STATE_DIR: dir });
      const token = async (...args: string[]): Promise<string> => (await run(process.execPath, [CLI, 'token', ...args], { cwd: REPOSITORY_ROOT, env: { ...process.env, ...env, PORTCULLIS_STATE_DIR: dir } })).stdout.trim();
      pepToken = await token('--sub', 'pep-orders-db', '--role', 'pep', '--resource', 'orders-db', '--ttl', '1h');
      agentToken = await token('--sub', 'agent-7', '--role', 'reader', '--ttl', '1h');
      try {
        const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => decide(pdp.url, index)));
        for (const answer of answers) {
          assert.equal(answer.effect, 'deny', JSON.stringify(answer));
          assert.ok(answer.reasons.some((reason) => reason.code === 'audit-unavailable'), JSON.stringify(answer.reasons));
        }
        // /health reads the audit thread's last heartbeat (every 50 ms): poll it, bounded (10 s).
        const auditStatus = async (): Promise<string> => ((await (await fetch(`${pdp.url}/health`)).json()) as { audit: { status: string } }).audit.status;
        await eventually('/health reports the audit trail failing', async () => (await auditStatus()) === 'failing', { timeoutMs: 10_000 });
        assert.equal(await auditStatus(), 'failing');
      } finally {
        // A PDP left running would keep this test file from ever ending.
        pdp.child.kill('SIGKILL');
        await pdp.exited;
      }
    } finally {
      if (existsSync(dir)) chmodSync(dir, 0o700);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the records a killed run wrote after its last checkpoint are attested by the next run\'s start: removing them is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-crash-tail-'));
    try {
      // No checkpoint after the start: every record of the killed run is past its last one.
      const quiet = { ...env, PORTCULLIS_STATE_DIR: dir, PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '3600' };
      const token = async (...args: string[]): Promise<string> => (await run(process.execPath, [CLI, 'token', ...args], { cwd: REPOSITORY_ROOT, env: { ...process.env, ...quiet } })).stdout.trim();
      pepToken = await token('--sub', 'pep-orders-db', '--role', 'pep', '--resource', 'orders-db', '--ttl', '1h');
      agentToken = await token('--sub', 'agent-7', '--role', 'reader', '--ttl', '1h');
      const killed = await startPdpProcess(quiet);
      for (let index = 0; index < 5; index += 1) assert.equal((await decide(killed.url, index)).effect, 'allow');
      killed.child.kill('SIGKILL');
      assert.equal(await killed.exited, 'SIGKILL');
      const next = await startPdpProcess(quiet);
      next.child.kill('SIGTERM');
      assert.equal(await next.exited, '0');

      type Line = { producer_id?: string; event?: string; unmapped?: { portcullis: { chain: { producer_id: string; seq: number } } } };
      const lines = (file: string): Line[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line);
      const [first, second] = lines(join(dir, 'audit', 'digests.jsonl')).filter((record) => record.event === 'start').map((record) => record.producer_id!);
      const jwks = join(dir, 'audit-signing', 'jwks.json');
      const untouched = await auditCli(dir, 'verify', '--jwks', jwks);
      assert.equal(untouched.code, 0, untouched.stdout);
      assert.match(untouched.stdout, new RegExp(`producer ${first}: crashed-restarted`));

      // The forger cuts the killed run's last two decisions, which no checkpoint of its own attests.
      const copy = join(dir, 'tampered');
      cpSync(join(dir, 'audit'), copy, { recursive: true });
      // Its chain: the bundle's activation (seq 0), then the five decisions (seq 1..5).
      const kept = lines(join(copy, 'decisions.jsonl')).filter((record) => !(record.unmapped!.portcullis.chain.producer_id === first && record.unmapped!.portcullis.chain.seq >= 4));
      writeFileSync(join(copy, 'decisions.jsonl'), kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
      const cut = await auditCli(dir, 'verify', '--dir', copy, '--jwks', jwks);
      assert.equal(cut.code, 1, cut.stdout);
      assert.match(cut.stdout, new RegExp(`truncated: the start record of producer ${second} .* attests decisions of producer ${first} up to seq 5, but its decisions chain ends at seq 3`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a line a crash cut short at the end of a stream is named, not failed, and the next run cuts it off, on a stream it does not write too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-torn-'));
    try {
      const quiet = { ...env, PORTCULLIS_STATE_DIR: dir };
      const token = async (...args: string[]): Promise<string> => (await run(process.execPath, [CLI, 'token', ...args], { cwd: REPOSITORY_ROOT, env: { ...process.env, ...quiet } })).stdout.trim();
      pepToken = await token('--sub', 'pep-orders-db', '--role', 'pep', '--resource', 'orders-db', '--ttl', '1h');
      agentToken = await token('--sub', 'agent-7', '--role', 'reader', '--ttl', '1h');
      const killed = await startPdpProcess(quiet);
      for (let index = 0; index < 3; index += 1) await reportStatement(killed.url, index, (await decide(killed.url, index)).decision_id);
      killed.child.kill('SIGKILL');
      assert.equal(await killed.exited, 'SIGKILL');

      // What SIGKILL leaves when it lands inside a write(): the first bytes of a record, no newline.
      const sessions = join(dir, 'audit', 'sessions.jsonl');
      const whole = readFileSync(sessions);
      const lastLine = whole.subarray(whole.lastIndexOf(0x0a, whole.length - 2) + 1);
      appendFileSync(sessions, lastLine.subarray(0, 120));
      const jwks = join(dir, 'audit-signing', 'jwks.json');
      const torn = await auditCli(dir, 'verify', '--jwks', jwks);
      assert.equal(torn.code, 0, torn.stdout);
      assert.match(torn.stdout, /sessions\.jsonl line 4: an unterminated line at the end of the stream/);

      // The same bytes ended by a newline are a line like any other: unparseable, a failure.
      const copy = join(dir, 'terminated');
      cpSync(join(dir, 'audit'), copy, { recursive: true });
      appendFileSync(join(copy, 'sessions.jsonl'), '\n');
      const terminated = await auditCli(dir, 'verify', '--dir', copy, '--jwks', jwks);
      assert.equal(terminated.code, 1, terminated.stdout);
      assert.match(terminated.stdout, /unparseable: record at sessions\.jsonl line 4 is not an audit record: invalid JSON/);

      // The next run reports no statement, yet cuts the half line off the sessions stream.
      const next = await startPdpProcess(quiet);
      next.child.kill('SIGTERM');
      assert.equal(await next.exited, '0');
      assert.deepEqual(readFileSync(sessions), whole);
      assert.match(next.log(), /audit: cut 120 byte\(s\) of an unterminated line off the end of sessions/);
      const repaired = await auditCli(dir, 'verify', '--jwks', jwks);
      assert.equal(repaired.code, 0, repaired.stdout);
      assert.doesNotMatch(repaired.stdout, /unterminated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
