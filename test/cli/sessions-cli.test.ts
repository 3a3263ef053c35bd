import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RecordingEventV1 } from '@portcullis/contract';
import { playRecording } from '@portcullis/pdp';
import { startKafkaBroker, type KafkaBroker } from '../support/kafka-broker.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { recordShellSession, type RecordedShellSession } from '../support/recorded-shell-session.ts';
import { auditCli } from '../support/audit-cli.ts';
import { sessionsCli } from '../support/sessions-cli.ts';
import { CLI } from './support/approvals-cli.ts';
import { TmuxSession } from './support/tmux-session.ts';
import { eventually } from '../support/eventually.ts';

describe('portcullis sessions (JSONL trail)', () => {
  let pdp: TestPdp;
  let dana: RecordedShellSession;
  let erin: RecordedShellSession;
  let gap: RecordedShellSession;

  before(async () => {
    pdp = await startTestPdp();
    dana = await recordShellSession(pdp, { sessionId: 'ssh-dana-1', principal: 'dana' });
    erin = await recordShellSession(pdp, { sessionId: 'ssh-erin-1', principal: 'erin' });
    gap = await recordShellSession(pdp, { sessionId: 'ssh-gap-1', principal: 'dana', dropChunks: [1], unfinished: true });
    await pdp.auditEvents('sessions');
  });
  after(() => pdp.close());

  it('replay --to-end writes exactly the bytes the client was sent, and nothing else', async () => {
    const run = await sessionsCli(pdp.stateDir, 'replay', dana.sessionId, '--to-end');
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout, dana.output);
    assert.equal(run.stderr, '');
  });

  it('replay --cast writes the asciicast v2 file: the header, then timed events that give back the bytes', async () => {
    const run = await sessionsCli(pdp.stateDir, 'replay', dana.sessionId, '--cast');
    assert.equal(run.code, 0, run.stderr);
    const [header, ...events] = run.stdout.toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.equal(header.version, 2);
    assert.deepEqual([header.width, header.height, header.env], [100, 30, { TERM: 'xterm-256color' }]);
    assert.deepEqual(events.filter((event: RecordingEventV1) => event[1] === 'i').map((event: RecordingEventV1) => event[2]), ['ls -l /var/log\r']);
    assert.deepEqual(events.filter((event: RecordingEventV1) => event[1] === 'r').map((event: RecordingEventV1) => event[2]), ['120x40']);
    const played: Buffer[] = [];
    await playRecording(events, (bytes) => played.push(Buffer.from(bytes)), { speed: 1, toEnd: true });
    assert.deepEqual(Buffer.concat(played), dana.output);
  });

  it('replay says which chunks are missing and that the end is, plays the rest, and exits 1', async () => {
    const run = await sessionsCli(pdp.stateDir, 'replay', gap.sessionId, '--to-end');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /chunk\(s\) 1 of this recording are missing/);
    assert.match(run.stderr, /no final chunk/);
    assert.ok(run.stdout.length > 0 && run.stdout.length < gap.output.length, 'what was recorded is played, and only that');
    assert.ok(gap.output.includes(run.stdout.subarray(0, 10)), 'it starts as the session did');
  });

  it('replay of a session without a recording, or of no session, says so and exits 1', async () => {
    const unknown = await sessionsCli(pdp.stateDir, 'replay', 'no-such-session', '--to-end');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /has no recording/);
    assert.equal(unknown.stdout.length, 0);
    const bad = await sessionsCli(pdp.stateDir, 'replay', dana.sessionId, '--speed', '0');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--speed must be a positive number/);
  });

  it('list finds sessions by principal, resource and time, newest first', async () => {
    const all = JSON.parse((await sessionsCli(pdp.stateDir, 'list', '--json')).stdout.toString());
    assert.deepEqual(all.map((session: { id: string }) => session.id), [gap.sessionId, erin.sessionId, dana.sessionId]);
    const danas = await sessionsCli(pdp.stateDir, 'list', '--principal', 'dana', '--resource', 'web-1', '--since', '1h');
    assert.equal(danas.code, 0);
    const lines = danas.stdout.toString().trimEnd().split('\n');
    assert.deepEqual(lines.map((line) => line.split(' ')[0]), [gap.sessionId, dana.sessionId]);
    assert.match(lines[1]!, /shell web-1 {2}dana .* 2 ran, 1 denied, 1 held {2}recorded \(\d+ chunks\)$/);
    assert.match(lines[0]!, /incomplete\)$/);
    assert.equal((await sessionsCli(pdp.stateDir, 'list', '--resource', 'orders-db', '--json')).stdout.toString().trim(), '[]');
    assert.equal((await sessionsCli(pdp.stateDir, 'list', '--from', '2000-01-01', '--to', '2000-01-02', '--json')).stdout.toString().trim(), '[]');
    const summary = all.find((session: { id: string }) => session.id === dana.sessionId);
    assert.deepEqual(
      { principal: summary.principal, resource: summary.resource, protocol: summary.protocol, decisions: summary.decisions, denied: summary.denied, approvals: summary.approvals, commands: summary.commands, end: summary.end_reason, final: summary.recording.final },
      { principal: { sub: 'dana', kind: 'human', authenticated: true }, resource: { type: 'ssh', name: 'web-1', environment: 'production' }, protocol: 'shell', decisions: 5, denied: 1, approvals: 1, commands: 2, end: 'client-closed', final: true },
    );
  });

  it('show lists a session\'s commands in order with their decisions, reasons, approvals and runs', async () => {
    const run = await sessionsCli(pdp.stateDir, 'show', dana.sessionId, '--json');
    assert.equal(run.code, 0, run.stderr);
    const detail = JSON.parse(run.stdout.toString());
    const byDecision = new Map(detail.commands_list.map((command: { decision_id: string }) => [command.decision_id, command]));
    assert.deepEqual(detail.commands_list.map((command: { decision_id: string }) => command.decision_id), [dana.decisions.connect, dana.decisions.ls, dana.decisions.denied, dana.decisions.held, dana.decisions.approved]);
    const ls = byDecision.get(dana.decisions.ls) as Record<string, any>;
    assert.deepEqual([ls.text, ls.effect, ls.runs.length, ls.runs[0].status], ['ls -l /var/log', 'allow', 1, 'success']);
    const denied = byDecision.get(dana.decisions.denied) as Record<string, any>;
    assert.deepEqual([denied.text, denied.effect, denied.runs], ['rm -rf /var/lib/data', 'deny', []]);
    assert.match(denied.reasons[0], /no role of the principal grants write access/);
    const held = byDecision.get(dana.decisions.held) as Record<string, any>;
    assert.equal(held.effect, 'approval_required');
    assert.equal(held.approval.id, dana.approvalId);
    assert.ok(['approved', 'executed'].includes(held.approval.status), held.approval.status);
    assert.deepEqual(held.approval.approvers, ['alice']);
    const approved = byDecision.get(dana.decisions.approved) as Record<string, any>;
    assert.deepEqual([approved.effect, approved.approval.id, approved.approval.approvers, approved.runs[0].duration_ms], ['allow', dana.approvalId, ['alice'], 250]);

    const text = (await sessionsCli(pdp.stateDir, 'show', dana.sessionId)).stdout.toString();
    assert.match(text, /deny +rm -rf \/var\/lib\/data/);
    assert.match(text, /approval_required +systemctl restart nginx {2}approval [0-9a-f-]+ (approved|executed) by alice/);
    assert.equal((await sessionsCli(pdp.stateDir, 'show', 'no-such-session')).code, 1);
  });
});

describe('the replay pace', () => {
  const events: RecordingEventV1[] = [[0, 'o', 'a'], [0.5, 'i', 'x'], [1, 'o', 'b'], [1, 'o', 'c'], [31, 'r', '80x24'], [41, 'o', 'd']];

  async function waits(options: { speed: number; toEnd: boolean; idleLimitSeconds?: number }): Promise<{ waits: number[]; written: string }> {
    const asked: number[] = [];
    let written = '';
    await playRecording(events, (bytes) => (written += Buffer.from(bytes).toString()), { ...options, wait: async (milliseconds) => void asked.push(Math.round(milliseconds)) });
    return { waits: asked, written };
  }

  it('waits as recorded between outputs, divided by --speed, shortened by --idle-limit, not at all with --to-end', async () => {
    assert.deepEqual(await waits({ speed: 1, toEnd: false }), { waits: [1000, 40_000], written: 'abcd' });
    assert.deepEqual(await waits({ speed: 4, toEnd: false }), { waits: [250, 10_000], written: 'abcd' });
    assert.deepEqual(await waits({ speed: 1, toEnd: false, idleLimitSeconds: 2 }), { waits: [1000, 2000], written: 'abcd' });
    assert.deepEqual(await waits({ speed: 1, toEnd: true }), { waits: [], written: 'abcd' });
  });
});

describe('portcullis sessions (Kafka trail)', () => {
  let broker: KafkaBroker;
  let pdp: TestPdp;
  let recorded: RecordedShellSession;
  const prefix = `sessions-${process.pid}`;

  before(async () => {
    broker = await startKafkaBroker();
    pdp = await startTestPdp({ PORTCULLIS_KAFKA_BROKERS: broker.brokers.join(','), PORTCULLIS_KAFKA_TOPIC_PREFIX: prefix });
    // Enough output for many chunks, with bytes that are not UTF-8 cut anywhere.
    const noise = Buffer.from(Array.from({ length: 4000 }, (_, index) => (index * 7919 + 13) & 0xff));
    const pieces = Array.from({ length: 40 }, (_, index) => noise.subarray(index * 100, index * 100 + 100));
    recorded = await recordShellSession(pdp, { sessionId: 'ssh-kafka-1', principal: 'dana', outputPieces: pieces });
    await pdp.close();
  });
  after(async () => {
    await broker.stop();
  });

  it('replays from the Kafka topic byte for byte, and lists the session from there', async () => {
    const source = ['--kafka', broker.brokers.join(','), '--topic-prefix', prefix];
    const run = await sessionsCli(pdp.stateDir, 'replay', recorded.sessionId, '--to-end', ...source);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout, recorded.output);
    const listed = JSON.parse((await sessionsCli(pdp.stateDir, 'list', '--principal', 'dana', '--json', ...source)).stdout.toString());
    assert.deepEqual(listed.map((session: { id: string }) => session.id), [recorded.sessionId]);
    assert.ok(listed[0].recording.chunks > 50 && listed[0].recording.final);
  });
});

describe('recordings in the audit trail are verifiable like every other record', () => {
  let pdp: TestPdp;
  let recorded: RecordedShellSession;

  before(async () => {
    pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1' });
    recorded = await recordShellSession(pdp, { sessionId: 'ssh-verified-1', principal: 'dana' });
    await pdp.close({ keepState: true });
  });
  after(() => rmSync(pdp.stateDir, { recursive: true, force: true }));

  it('audit verify passes over the recording chunks, and names a chunk whose bytes were altered', async () => {
    const verified = await auditCli(pdp.stateDir, 'verify');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /PASS/);
    // The evidence report's AU-14 (Session Audit) counts the recording, whole.
    const report = await auditCli(pdp.stateDir, 'report', '--from', '2000-01-01', '--to', '2100-01-01', '--format', 'json');
    assert.equal(report.code, 0, report.stderr);
    const sessionAudit = (JSON.parse(report.stdout) as { controls: Array<{ id: string; counts: Record<string, number>; verification: { ok: boolean } }> }).controls.find((control) => control.id === 'AU-14');
    assert.ok(sessionAudit?.verification.ok);
    assert.deepEqual({ ...sessionAudit.counts, recording_chunks: sessionAudit.counts.recording_chunks! > 1 }, { sessions_recorded: 1, recording_chunks: true, recordings_complete: 1, recordings_open_or_incomplete: 0 });

    const file = join(pdp.stateDir, 'audit', 'sessions.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    const index = lines.findIndex((line) => line.includes('"session.recording"') && line.includes('total 4'));
    assert.ok(index >= 0, 'a chunk holding the listing');
    lines[index] = lines[index]!.replace('total 4', 'total 5');
    writeFileSync(file, lines.join('\n'));
    const tampered = await auditCli(pdp.stateDir, 'verify');
    assert.equal(tampered.code, 1);
    assert.match(tampered.stdout, /FAIL/);
    assert.match(tampered.stdout, new RegExp(`sessions\\.jsonl line ${index + 1}`));
    // The replay still plays what the trail holds: verify is what says whether to trust it.
    const replay = await sessionsCli(pdp.stateDir, 'replay', recorded.sessionId, '--to-end');
    assert.ok(replay.stdout.includes(Buffer.from('total 5')));
  });
});

describe('portcullis sessions replay on a real terminal (tmux)', () => {
  let pdp: TestPdp;
  let recorded: RecordedShellSession;
  let terminal: TmuxSession | undefined;

  before(async () => {
    pdp = await startTestPdp();
    recorded = await recordShellSession(pdp, { sessionId: 'ssh-tty-1', principal: 'dana' });
    await pdp.close({ keepState: true });
  });
  after(async () => {
    await terminal?.close();
    rmSync(pdp.stateDir, { recursive: true, force: true });
  });

  it('draws the session on the terminal as the client saw it, and says after it when the terminal is smaller than the recorded one', async () => {
    terminal = await TmuxSession.start(['env', `PORTCULLIS_STATE_DIR=${pdp.stateDir}`, process.execPath, CLI, 'sessions', 'replay', recorded.sessionId, '--speed', '100'], process.env, 80, 40);
    // Lines the terminal wrapped are joined back: the note is longer than the 80 columns.
    const screen = await terminal.waitFor((text) => text.replaceAll('\n', '').includes('lines may have wrapped'), 'the end of the session and the note after it');
    assert.match(screen.replaceAll('\n', ''), /recorded on a 100x30 terminal, this one is 80x40: lines may have wrapped/);
    assert.match(screen, /total 4\n-rw-r----- 1 root adm 0 café\.log/);
    assert.match(screen, /✓ done/);
    await eventually('the replay exits', () => terminal!.exitStatus() !== undefined);
    assert.equal(terminal.exitStatus(), 0);
  });
});
