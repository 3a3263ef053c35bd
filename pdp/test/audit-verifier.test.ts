import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CompactSign } from 'jose';
import type { JSONWebKeySet } from 'jose';
import type { AuditStream } from '../src/audit/audit-event.ts';
import { verifyAudit, type StoredItem, type VerificationReport } from '../src/audit/verification/audit-verifier.ts';
import { digestPayload, type DigestRecord } from '../src/audit/trail/digest-record.ts';
import { auditSigningDirectory, DigestSigner } from '../src/audit/trail/digest-signer.ts';
import { HashChain, recordHash } from '../src/audit/trail/hash-chain.ts';
import { toOcsfRecord } from '../src/audit/ocsf/ocsf-record.ts';
import { loadOrCreateSigningKey } from '../src/keys/signing-key-store.ts';
import type { CheckpointEvent, StreamPositions } from '../src/audit/trail/producer-checkpoint.ts';
import { ProducerCheckpoints } from '../src/audit/trail/producer-checkpoints.ts';
import { PRODUCT, approvalEvent, bundleActivationEvent, decisionEvent, items, sessionStatementEvent, sessionStatementsEvent, sqlAction, tempDir } from './audit-fixtures.ts';

interface Trail {
  /** JSON lines per stream, as the embedded sink writes them. */
  lines: Record<AuditStream, string[]>;
  digests: string[];
  /** Signed start, checkpoint and stop records (on the digests stream too). */
  checkpoints: string[];
  jwks: JSONWebKeySet;
  producerId: string;
  directory: string;
}

interface TrailOptions {
  decisions?: number;
  sessions?: number;
  /** Records of runs of statements (session.statements), after the lone ones. */
  statementRuns?: number;
  approvals?: number;
  /** Make a digest after every n decisions. */
  digestEvery?: number;
  /** Make the shutdown digest and the stop record at the end (default true). */
  finalDigest?: boolean;
  /** A live bundle activation (rev-42) first, and decisions naming its revision. */
  policy?: boolean;
  directory: string;
}

async function buildTrail(options: TrailOptions): Promise<Trail> {
  const producerId = `pdp-test-${Math.random().toString(16).slice(2, 10)}`;
  const chain = new HashChain(producerId);
  const signer = new DigestSigner({ directory: options.directory });
  const lines: Record<AuditStream, string[]> = { decisions: [], sessions: [], approvals: [], shadow: [] };
  const digests: string[] = [];
  const checkpointLines: string[] = [];
  // As the PDP's audit trail does: a signed start, a checkpoint after each round of digests, a stop at the end.
  const checkpoints = new ProducerCheckpoints({ producerId, digestIntervalMs: 10_000, durability: 'sync', sign: (payload) => signer.signPayload(payload) });
  const attested: StreamPositions = {};
  const digestRound = async (event: CheckpointEvent): Promise<void> => {
    for (const digest of await signer.digestAll()) {
      digests.push(JSON.stringify(digest));
      (attested as Record<string, unknown>)[digest.stream] = { last_seq: digest.last_seq, last_hash: digest.last_hash };
    }
    checkpointLines.push(JSON.stringify(await checkpoints.next(event, { ...attested }, [])));
  };
  await digestRound('start');
  const write = (stream: AuditStream, event: Parameters<typeof toOcsfRecord>[0]): void => {
    const record = chain.link(stream, toOcsfRecord(event, PRODUCT));
    signer.append(record);
    lines[stream].push(JSON.stringify(record));
  };
  // As the PDP does: the bundle's activation precedes every decision that names its revision.
  // Without `policy`, the decisions name no revision (no policy loaded): seqs stay those of the decisions.
  if (options.policy) write('decisions', bundleActivationEvent());
  const decisions = options.decisions ?? 10;
  for (let i = 0; i < decisions; i += 1) {
    write('decisions', decisionEvent({ decisionId: `dec-${i}`, effect: i % 3 === 2 ? 'deny' : 'allow', action: sqlAction(`SELECT ${i} FROM orders`, 'select'), revision: options.policy ? 'rev-42' : null }));
    if (options.digestEvery && (i + 1) % options.digestEvery === 0) await digestRound('checkpoint');
  }
  for (let i = 0; i < (options.sessions ?? 3); i += 1) write('sessions', sessionStatementEvent(`SELECT ${i}`));
  for (let i = 0; i < (options.statementRuns ?? 0); i += 1) write('sessions', sessionStatementsEvent(Array.from({ length: 50 }, (_, n) => `SELECT ${i}, ${n}`), Array.from({ length: 50 }, (_, n) => (n % 7 === 0 ? 2 : 0))));
  for (let i = 0; i < (options.approvals ?? 2); i += 1) write('approvals', approvalEvent(i === 0 ? 'approval.requested' : 'approval.approved', i === 0 ? [] : ['bob', 'carol']));
  if (options.finalDigest !== false) await digestRound('stop');
  return { lines, digests, checkpoints: checkpointLines, jwks: await signer.publicJwks(), producerId, directory: options.directory };
}

function recordItems(trail: Trail): StoredItem[] {
  return (Object.keys(trail.lines) as AuditStream[]).flatMap((stream) => trail.lines[stream].map((line, index) => ({ record: JSON.parse(line) as unknown, where: `${stream}.jsonl line ${index + 1}` })));
}

function digestItems(digests: readonly string[]): StoredItem[] {
  return digests.map((line, index) => ({ record: line, where: `digests.jsonl line ${index + 1}` }));
}

function checkpointItems(trail: Trail): StoredItem[] {
  return trail.checkpoints.map((line, index) => ({ record: line, where: `digests.jsonl line ${100 + index}` }));
}

/** Verifies records and digests as given, with the trail's checkpoints (unless others are given). */
function verify(trail: Trail, records = recordItems(trail), digests = digestItems(trail.digests), jwks = trail.jwks, checkpoints = checkpointItems(trail), now?: Date): Promise<VerificationReport> {
  return verifyAudit({ records: items(records), digests: items([...digests, ...checkpoints]), jwks, ...(now ? { now } : {}) });
}

function kinds(report: VerificationReport): string[] {
  return report.problems.map((problem) => problem.kind).sort();
}

describe('audit verifier', () => {
  let root: { path: string; remove: () => Promise<void> };
  let counter = 0;
  const freshDirectory = (): string => auditSigningDirectory(join(root.path, `state-${(counter += 1)}`));

  before(async () => {
    root = await tempDir('portcullis-verify-');
  });
  after(() => root.remove());

  test('a complete trail verifies: every chain, hash, link and digest', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 10, digestEvery: 4 });
    const report = await verify(trail);
    assert.deepEqual(report.problems, []);
    assert.equal(report.ok, true);
    assert.deepEqual(report.counts, { records: 15, producers: 1, streams: 3, digests: 9, digests_verified: 5, checkpoints_verified: 4, records_attested: 15 });
    assert.deepEqual(report.producers.map((producer) => [producer.producer_id, producer.state, producer.durability, producer.digest_interval_ms]), [[trail.producerId, 'stopped', 'sync', 10_000]]);
    assert.deepEqual(report.notes, []);
    assert.deepEqual(report.chains.map((chain) => [chain.stream, chain.records, chain.first_seq, chain.last_seq, chain.digests, chain.attested]), [
      ['approvals', 2, 0, 1, 1, 2], ['decisions', 10, 0, 9, 3, 10], ['sessions', 3, 0, 2, 1, 3],
    ]);
  });

  test('a sessions chain holding runs of statements verifies; a statement altered inside a run is named by the run\'s record', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 2, sessions: 2, statementRuns: 3, approvals: 0 });
    const report = await verify(trail);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.chains.map((chain) => [chain.stream, chain.records, chain.attested]), [['decisions', 2, 2], ['sessions', 5, 5]]);
    const line = trail.lines.sessions[3]!;
    const record = JSON.parse(line) as { metadata: { uid: string; event_code: string } };
    assert.equal(record.metadata.event_code, 'session.statements');
    trail.lines.sessions[3] = line.replace('SELECT 1, 17', 'SELECT 1, 71');
    const altered = await verify(trail);
    assert.deepEqual(kinds(altered), ['hash-mismatch']);
    assert.equal(altered.problems[0]!.seq, 3);
    assert.match(altered.problems[0]!.message, new RegExp(`^sessions record seq 3 \\(event ${record.metadata.uid}, sessions.jsonl line 4\\)`));
  });

  test('one byte changed in one record is named: stream, producer, seq, decision id and where', async () => {
    const trail = await buildTrail({ directory: freshDirectory() });
    const line = trail.lines.decisions[4]!;
    const at = line.indexOf('"effect":"allow"') + '"effect":"'.length;
    trail.lines.decisions[4] = `${line.slice(0, at)}A${line.slice(at + 1)}`;
    const report = await verify(trail);
    assert.equal(report.ok, false);
    assert.deepEqual(kinds(report), ['hash-mismatch']);
    const [problem] = report.problems;
    assert.deepEqual({ ...problem, message: undefined }, {
      kind: 'hash-mismatch', message: undefined, where: 'decisions.jsonl line 5', producer_id: trail.producerId, stream: 'decisions', seq: 4, decision_id: 'dec-4',
    });
    assert.match(problem!.message, new RegExp(`^decisions record seq 4 \\(decision dec-4, decisions.jsonl line 5\\) of producer ${trail.producerId} was altered`));
  });

  test('a record altered with its hash recomputed breaks the link of the next record and its digest', async () => {
    const trail = await buildTrail({ directory: freshDirectory() });
    const forged = JSON.parse(trail.lines.decisions[2]!);
    forged.unmapped.portcullis.effect = 'allow';
    forged.unmapped.portcullis.chain.hash = recordHash(forged);
    trail.lines.decisions[2] = JSON.stringify(forged);
    const report = await verify(trail);
    assert.deepEqual(kinds(report), ['broken-link', 'digest-mismatch']);
    const link = report.problems.find((problem) => problem.kind === 'broken-link')!;
    assert.equal(link.seq, 3);
    assert.match(link.message, /decisions record seq 3 \(decision dec-3, decisions.jsonl line 4\) .* does not link to seq 2 \(decision dec-2, decisions.jsonl line 3\)/);
    assert.match(report.problems.find((problem) => problem.kind === 'digest-mismatch')!.message, /root_hash is .* but the records give/);
  });

  test('a removed record is a gap naming its seq and both neighbours, and its digest range is incomplete', async () => {
    const trail = await buildTrail({ directory: freshDirectory() });
    trail.lines.decisions.splice(6, 1);
    const report = await verify(trail);
    assert.deepEqual(kinds(report), ['digest-range-missing', 'gap']);
    const gap = report.problems.find((problem) => problem.kind === 'gap')!;
    assert.deepEqual([gap.stream, gap.seq, gap.producer_id], ['decisions', 6, trail.producerId]);
    assert.equal(gap.message, `decisions chain of producer ${trail.producerId} is missing seq 6 (1 record) between seq 5 (decision dec-5, decisions.jsonl line 6) and seq 7 (decision dec-7, decisions.jsonl line 7)`);
    assert.match(report.problems.find((problem) => problem.kind === 'digest-range-missing')!.message, /digest of decisions seq 0..9 .* attests records that are missing: seq 6$/);
  });

  test('records removed from the start of a chain are a gap before the first record found', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), finalDigest: false });
    trail.lines.decisions.splice(0, 3);
    const report = await verify(trail);
    assert.deepEqual(kinds(report), ['gap']);
    assert.match(report.problems[0]!.message, /is missing seq 0..2 \(3 records\) before its first record found, seq 3 \(decision dec-3/);
  });

  test('records arriving out of order across partitions and streams verify', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 30, digestEvery: 7 });
    // Three partitions read one after the other, as a consumer would: order within a partition only.
    const all = recordItems(trail);
    const partitions = [0, 1, 2].map((partition) => all.filter((_, index) => index % 3 === partition).reverse());
    const shuffled = partitions.flatMap((list, partition) => list.map((item, offset) => ({ record: item.record, where: `topic portcullis.x.v1 partition ${partition} offset ${offset}` })));
    const report = await verify(trail, shuffled, digestItems([...trail.digests].reverse()));
    assert.deepEqual(report.problems, []);
    assert.equal(report.counts.records, 35);
  });

  test('a duplicate with the same hash is a harmless note; one with a different hash is a conflict naming both', async () => {
    const trail = await buildTrail({ directory: freshDirectory() });
    const records = recordItems(trail);
    const again = { record: JSON.parse(trail.lines.decisions[3]!), where: 'decisions.jsonl line 99' };
    const harmless = await verify(trail, [...records, again]);
    assert.equal(harmless.ok, true);
    assert.equal(harmless.counts.records, 15);
    assert.equal(harmless.notes.length, 1);
    assert.match(harmless.notes[0]!, /1 duplicate record\(s\) with identical hashes \(seq 3\); harmless/);

    const other = JSON.parse(trail.lines.decisions[3]!);
    other.unmapped.portcullis.effect = 'deny';
    other.unmapped.portcullis.chain.hash = recordHash(other);
    const conflict = await verify(trail, [...records, { record: other, where: 'decisions.jsonl line 100' }]);
    assert.deepEqual(kinds(conflict), ['duplicate-conflict']);
    assert.match(conflict.problems[0]!.message, /two different records with seq 3: seq 3 \(decision dec-3, decisions.jsonl line 4\) hashes sha256:\w+, seq 3 \(decision dec-3, decisions.jsonl line 100\) hashes sha256:\w+/);
  });

  test('a digest signed by another key is named as a bad signature, and the digest after it no longer links', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 8, digestEvery: 4 });
    const real = JSON.parse(trail.digests[0]!) as DigestRecord;
    // The forger has the records but not the key: same fields, signed with their own key.
    const { kid, privateKey } = await loadOrCreateSigningKey(freshDirectory(), 'forger key');
    const forged = { ...real, signature: await new CompactSign(new TextEncoder().encode(digestPayload(real))).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey) };
    const digests = [JSON.stringify(forged), ...trail.digests.slice(1)];
    const report = await verify(trail, undefined, digestItems(digests));
    assert.ok(kinds(report).includes('bad-signature'));
    const bad = report.problems.find((problem) => problem.kind === 'bad-signature')!;
    assert.equal(bad.where, 'digests.jsonl line 1');
    assert.match(bad.message, new RegExp(`^digest of decisions seq 0..3 by producer ${trail.producerId} \\(digests.jsonl line 1\\): signed with key ${kid}, which is not in the JWKS`));
    assert.ok(report.problems.some((problem) => problem.kind === 'broken-link' && /links to a previous digest .* that was not found/.test(problem.message)));

    // The same forged key claiming the real kid fails verification against the real key.
    const impostor = { ...real, signature: await new CompactSign(new TextEncoder().encode(digestPayload(real))).setProtectedHeader({ alg: 'ES256', kid: trail.jwks.keys[0]!.kid! }).sign(privateKey) };
    const second = await verify(trail, undefined, digestItems([JSON.stringify(impostor), ...trail.digests.slice(1)]));
    assert.match(second.problems.find((problem) => problem.kind === 'bad-signature')!.message, /does not verify against key/);
  });

  test('a digest field edited after signing is named: the signature signs other values', async () => {
    const trail = await buildTrail({ directory: freshDirectory() });
    const digests = [...trail.digests];
    const edited = JSON.parse(digests[0]!);
    edited.count = 9;
    digests[0] = JSON.stringify(edited);
    const report = await verify(trail, undefined, digestItems(digests));
    assert.ok(kinds(report).includes('bad-signature'));
    assert.match(report.problems.find((problem) => problem.kind === 'bad-signature')!.message, /is valid but signs other values: count differ/);
  });

  test('a validly signed digest whose count or root hash does not match the records is a digest mismatch', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), finalDigest: false, decisions: 4, sessions: 0, approvals: 0 });
    const { kid, privateKey } = await loadOrCreateSigningKey(trail.directory, 'audit signing key');
    const hashes = trail.lines.decisions.map((line) => JSON.parse(line).unmapped.portcullis.chain.hash as string);
    const sign = async (fields: Omit<DigestRecord, 'signature'>): Promise<string> =>
      JSON.stringify({ ...fields, signature: await new CompactSign(new TextEncoder().encode(digestPayload(fields))).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey) });
    const base = {
      type: 'portcullis.audit.digest.v1' as const, producer_id: trail.producerId, stream: 'decisions' as const, first_seq: 0, last_seq: 3, count: 4,
      last_hash: hashes[3]!, root_hash: (await import('../src/audit/trail/digest-record.ts')).digestRootHash(hashes), previous_digest: null, time: '2026-11-25T23:00:00.000Z',
    };
    assert.equal((await verify(trail, undefined, digestItems([await sign(base)]))).ok, true);

    const wrongCount = await verify(trail, undefined, digestItems([await sign({ ...base, count: 5 })]));
    assert.deepEqual(kinds(wrongCount), ['digest-mismatch']);
    assert.match(wrongCount.problems[0]!.message, /digest of decisions seq 0..3 .* does not match its records: count is 5 but the range holds 4 records$/);
    const wrongRoot = await verify(trail, undefined, digestItems([await sign({ ...base, root_hash: 'sha256:00' })]));
    assert.deepEqual(kinds(wrongRoot), ['digest-mismatch']);
    assert.match(wrongRoot.problems[0]!.message, /root_hash is sha256:00 but the records give sha256:/);
    const wrongLast = await verify(trail, undefined, digestItems([await sign({ ...base, last_hash: hashes[2]! })]));
    assert.match(wrongLast.problems[0]!.message, /last_hash is .* but seq 3 hashes/);
  });

  test('a removed digest breaks the digest chain, and unattested ranges are named', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 12, digestEvery: 4, sessions: 0, approvals: 0 });
    const middleRemoved = await verify(trail, undefined, digestItems([trail.digests[0]!, trail.digests[2]!]));
    assert.deepEqual(kinds(middleRemoved), ['broken-link', 'gap']);
    assert.match(middleRemoved.problems.find((problem) => problem.kind === 'gap')!.message, /no digest attests seq 4..7 \(4 records\) between digest of decisions seq 0..3/);
    const firstRemoved = await verify(trail, undefined, digestItems(trail.digests.slice(1)));
    assert.deepEqual(kinds(firstRemoved), ['broken-link']);
    assert.match(firstRemoved.problems[0]!.message, /digest of decisions seq 4..7 .* links to a previous digest sha256:\w+ that was not found/);
  });

  test('a running producer\'s records after its last checkpoint are noted as not yet attested; once overdue, its tail is named as cut', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 6, digestEvery: 4, finalDigest: false });
    const report = await verify(trail);
    assert.equal(report.ok, true);
    assert.equal(report.counts.records_attested, 4);
    assert.equal(report.producers[0]!.state, 'running');
    assert.deepEqual([...report.notes].sort(), [
      `approvals chain of producer ${trail.producerId}: 2 record(s) after its last checkpoint (seq 0..1) are not yet attested`,
      `decisions chain of producer ${trail.producerId}: 2 record(s) after its last checkpoint (seq 4..5) are not yet attested`,
      `sessions chain of producer ${trail.producerId}: 3 record(s) after its last checkpoint (seq 0..2) are not yet attested`,
    ]);
    // Three digest intervals (its signed 10 s) later, with no checkpoint and no stop: the tail was cut.
    const later = await verify(trail, undefined, undefined, undefined, undefined, new Date(Date.now() + 31_000));
    assert.equal(later.ok, false);
    assert.deepEqual([...new Set(kinds(later))], ['tail-cut', 'unattested']);
    assert.match(later.problems.find((problem) => problem.kind === 'tail-cut')!.message, new RegExp(`producer ${trail.producerId} has no stop record and no checkpoint since .* more than 3 digest intervals of 10 s`));
    assert.equal(later.producers[0]!.state, 'tail-cut');
  });

  test('unparseable lines and records without a chain are named by where, and a digest for absent records is incomplete', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), sessions: 0, approvals: 0 });
    const records: StoredItem[] = [
      ...recordItems(trail),
      { record: '{"class_uid": 6005, broken', where: 'decisions.jsonl line 11' },
      { record: { unparseable: 'garbage line' }, where: 'decisions.jsonl line 12' },
      { record: { class_uid: 6005, unmapped: { portcullis: {} } }, where: 'decisions.jsonl line 13' },
      { record: Buffer.from(trail.lines.decisions[0]!), where: 'decisions.jsonl line 14' },
    ];
    const report = await verify(trail, records, [...digestItems(trail.digests), { record: '{"type":"other"}', where: 'digests.jsonl line 9' }]);
    assert.deepEqual(report.problems.map((problem) => [problem.kind, problem.where]), [
      ['unparseable', 'decisions.jsonl line 11'], ['unparseable', 'decisions.jsonl line 12'], ['unparseable', 'decisions.jsonl line 13'], ['unparseable', 'digests.jsonl line 9'],
    ]);
    assert.match(report.problems[0]!.message, /invalid JSON: "\{\\"class_uid\\": 6005, broken"/);
    assert.match(report.problems[2]!.message, /has no unmapped.portcullis.chain/);
    assert.equal(report.notes.length, 1, 'the bytes copy of line 1 is a harmless duplicate');

    const missing = await verify(trail, [], digestItems(trail.digests));
    assert.deepEqual(kinds(missing), ['digest-range-missing', 'truncated']);
    assert.match(missing.problems[0]!.message, /attests records that are missing: seq 0..9$/);
  });

  test('every decision names a revision its chain activated before it: a trail with the bundle.activated record verifies', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 6, digestEvery: 3, policy: true });
    const report = await verify(trail);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.notes, []);
    assert.equal(JSON.parse(trail.lines.decisions[0]!).metadata.event_code, 'bundle.activated');
  });

  test('a removed bundle.activated record fails verify twice: the gap, and the revision its decisions name is unattested', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 6, policy: true });
    trail.lines.decisions.splice(0, 1);
    // Kept for ever (no retention given): a missing head cannot have aged out.
    const report = await verify(trail);
    assert.ok(kinds(report).includes('unattested-revision'), kinds(report).join(', '));
    const unattested = report.problems.find((problem) => problem.kind === 'unattested-revision')!;
    assert.deepEqual([unattested.stream, unattested.seq, unattested.decision_id], ['decisions', 1, 'dec-0']);
    assert.match(unattested.message, /^policy revision rev-42 has no bundle\.activated record in the decisions chain of producer .* before decision dec-0 \(seq 1, .*\) and 5 later decision\(s\) of that revision/);
  });

  test('an altered bundle.activated record attests nothing: its hash and the revision are both named', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 3, policy: true });
    trail.lines.decisions[0] = trail.lines.decisions[0]!.replaceAll(`sha256:${'ab'.repeat(32)}`, `sha256:${'ef'.repeat(32)}`);
    const report = await verify(trail);
    assert.deepEqual(kinds(report), ['hash-mismatch', 'unattested-revision']);
  });

  test('the activation of a shadow candidate does not attest the live decisions of its revision', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 2, policy: true });
    const shadow = JSON.parse(trail.lines.decisions[0]!);
    shadow.unmapped.portcullis.role = 'shadow';
    shadow.unmapped.portcullis.chain.hash = recordHash(shadow);
    const forged = [...trail.lines.decisions];
    forged[0] = JSON.stringify(shadow);
    const report = await verify({ ...trail, lines: { ...trail.lines, decisions: forged } });
    assert.ok(kinds(report).includes('unattested-revision'), kinds(report).join(', '));
  });

  test('a chain whose head aged out (with the activation) verifies from its checkpoint: the revision then serving is noted, not failed', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 8, digestEvery: 4, policy: true });
    // seq 0 (activation) and seq 1..4 (dec-0..dec-3) end at the first checkpoint's position: they aged out.
    trail.lines.decisions.splice(0, 5);
    const verifyAt = (now: Date) => verifyAudit({ records: items(recordItems(trail)), digests: items([...digestItems(trail.digests), ...checkpointItems(trail)]), jwks: trail.jwks, retention: { decisions: 86_400_000 }, now });
    // Two days on, with one day's retention: the producer started long enough ago for its head to be gone.
    const report = await verifyAt(new Date(Date.now() + 2 * 86_400_000));
    assert.deepEqual(report.problems, []);
    assert.equal(report.started_from.find((start) => start.stream === 'decisions')?.first_seq, 5);
    assert.ok(report.notes.some((note) => /revision rev-42 was active when the held records begin; its activation record aged out/.test(note)), report.notes.join('\n'));
    // Today: the producer started within the retention, so its head cannot have aged out; it was
    // removed: a gap at the head (no retention anchor excuses it), and the revision is unattested.
    const today = await verifyAt(new Date());
    assert.deepEqual(kinds(today), ['digest-range-missing', 'gap', 'truncated', 'unattested-revision']);
    assert.match(today.problems.find((problem) => problem.kind === 'unattested-revision')!.message, /policy revision rev-42 has no bundle\.activated record .* before decision dec-4 \(seq 5/);
  });

  test('verifies a trail of twenty thousand records', async () => {
    const trail = await buildTrail({ directory: freshDirectory(), decisions: 20_000, digestEvery: 1000, sessions: 0, approvals: 0 });
    const started = Date.now();
    const report = await verify(trail);
    assert.deepEqual(report.problems, []);
    assert.equal(report.counts.records_attested, 20_000);
    assert.equal(report.counts.digests_verified, 20);
    assert.ok(Date.now() - started < 30_000);
  });
});
