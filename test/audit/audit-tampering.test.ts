import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, CompactSign, type JSONWebKeySet } from 'jose';
import { recordHash, auditBodyOf } from '@portcullis/pdp';
import { loadPdpConfig } from '@portcullis/pdp';
import { loadOrCreateSigningKey } from '@portcullis/pdp';
import { runAuditCommand } from '@portcullis/pdp';
import { auditCli } from '../support/audit-cli.ts';
import { startTestPdp } from '../support/pdp-harness.ts';

type Json = Record<string, any>;
const chainOf = (record: Json): { producer_id: string; stream: string; seq: number; prev_hash: string | null; hash: string } => record.unmapped.portcullis.chain;
const readLines = (file: string): Json[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Json);
const writeLines = (file: string, records: readonly Json[]): void => writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''));

/** What a forger with write access does after removing records: renumber and re-hash a producer's chain. */
function rehash(records: Json[], producerId: string): Json[] {
  let seq = 0;
  let previous: string | null = null;
  return records.map((record) => {
    if (chainOf(record).producer_id !== producerId) return record;
    const copy = structuredClone(record);
    Object.assign(chainOf(copy), { seq, prev_hash: previous, hash: '' });
    chainOf(copy).hash = recordHash(copy);
    previous = chainOf(copy).hash;
    seq += 1;
    return copy;
  });
}

describe('audit verify names every way of removing, cutting, forging or re-signing a trail of real PDP runs', () => {
  let stateDir: string;
  let auditDir: string;
  let pinnedJwks: string;
  let producers: string[];
  const realThumbprints: string[] = [];

  /** Three runs on one state folder; the signing key is rotated before the third. Each run's decisions chain: its bundle's activation (seq 0), then 25 decisions (seq 1..25). */
  before(async () => {
    let state: string | undefined;
    producers = [];
    const keys: JSONWebKeySet = { keys: [] };
    for (let run = 0; run < 3; run += 1) {
      if (run === 2) rmSync(join(state!, 'audit-signing'), { recursive: true }); // key rotation: a new key for run 3
      const pdp = await startTestPdp({ PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '1', ...(state ? { PORTCULLIS_STATE_DIR: state } : {}) });
      state = pdp.stateDir;
      const reader = await pdp.token({ sub: 'agent-report', roles: ['reader'] });
      for (let index = 0; index < 25; index += 1) {
        const { body } = await pdp.decide({
          subject_token: reader,
          resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
          action: { type: 'sql', sql: index % 5 === 4 ? 'DELETE FROM orders' : `SELECT id FROM orders WHERE id = ${index}` },
          session: { id: `session-${run}` },
        });
        assert.ok(body.decision_id);
      }
      await pdp.close({ keepState: true });
      // This run's id, from its signed start record: the last start in the digests stream.
      producers.push(readLines(join(state, 'audit', 'digests.jsonl')).filter((record) => record.event === 'start').at(-1)!.producer_id as string);
      const jwks = JSON.parse(readFileSync(join(state, 'audit-signing', 'jwks.json'), 'utf8')) as JSONWebKeySet;
      for (const key of jwks.keys) if (!keys.keys.some((known) => known.kid === key.kid)) keys.keys.push(key);
    }
    stateDir = state!;
    auditDir = join(stateDir, 'audit');
    pinnedJwks = join(stateDir, 'pinned-jwks.json');
    writeFileSync(pinnedJwks, JSON.stringify(keys));
    for (const key of keys.keys) realThumbprints.push(await calculateJwkThumbprint(key));
  });
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  let copies = 0;
  /** A copy of the audit folder to tamper with. */
  const copyOfAudit = (): string => {
    const copy = join(stateDir, `tampered-${(copies += 1)}`);
    cpSync(auditDir, copy, { recursive: true });
    return copy;
  };
  const verifyCopy = (dir: string, ...extra: string[]) => auditCli(stateDir, 'verify', '--dir', dir, '--jwks', pinnedJwks, ...extra);
  const decisionsOf = (dir: string) => readLines(join(dir, 'decisions.jsonl'));
  const digestsOf = (dir: string) => readLines(join(dir, 'digests.jsonl'));

  it('the untouched trail of three runs, across a key rotation, passes with a pinned JWKS and says which keys it trusted', async () => {
    assert.equal(realThumbprints.length, 2, 'run 3 signed with a new key');
    const result = await verifyCopy(auditDir);
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /PASS/);
    assert.ok(result.stdout.includes(`keys trusted: ${realThumbprints.join(', ')} — pinned: the JWKS file ${pinnedJwks}`), result.stdout);
    for (const producer of producers) assert.match(result.stdout, new RegExp(`producer ${producer}: stopped, .*durability sync`));
    assert.equal(result.stderr, '');
    // Pinned by thumbprint instead of a file: the same keys, picked by what they are.
    const byThumbprint = await auditCli(stateDir, 'verify', '--dir', auditDir, '--jwks', pinnedJwks, '--key-thumbprint', realThumbprints.join(','));
    assert.equal(byThumbprint.code, 0, `${byThumbprint.stdout}${byThumbprint.stderr}`);
  });

  it('the folder\'s own JWKS is trusted only with a loud warning, and after a rotation it cannot vouch for earlier runs', async () => {
    const result = await auditCli(stateDir, 'verify', '--dir', auditDir);
    assert.match(result.stderr, /WARNING: the signing keys were read from .*audit-signing\/jwks\.json, beside the records/);
    assert.match(result.stdout, /NOT pinned/);
    assert.equal(result.code, 1, 'the folder only holds the key of run 3');
    assert.match(result.stdout, /bad-signature: .*which is not in the JWKS/);
  });

  it('deleting 12 decision records, re-hashing the chain and removing that stream\'s digests fails, naming the rewrite', async () => {
    const dir = copyOfAudit();
    const [victim] = producers;
    const own = decisionsOf(dir).filter((record) => chainOf(record).producer_id === victim);
    const removed = new Set(own.slice(5, 17).map((record) => chainOf(record).seq));
    writeLines(join(dir, 'decisions.jsonl'), rehash(decisionsOf(dir).filter((record) => !(chainOf(record).producer_id === victim && removed.has(chainOf(record).seq))), victim!));
    writeLines(join(dir, 'digests.jsonl'), digestsOf(dir).filter((record) => !(record.type === 'portcullis.audit.digest.v1' && record.producer_id === victim && record.stream === 'decisions')));
    const result = await verifyCopy(dir);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /FAIL/);
    assert.match(result.stdout, new RegExp(`no-digest: decisions chain of producer ${victim} has 14 record\\(s\\) and no signed digest`));
    assert.match(result.stdout, new RegExp(`truncated: the stop record of producer ${victim} .* attests decisions of producer ${victim} up to seq 25, but its decisions chain ends at seq 13`));
    const report = await auditCli(stateDir, 'report', '--dir', dir, '--jwks', pinnedJwks, '--format', 'json');
    const parsed = JSON.parse(report.stdout) as { verification: { ok: boolean } };
    assert.equal(parsed.verification.ok, false);
  });

  it('a whole run removed — its records, digests, start, checkpoints and stop — is named by the next run', async () => {
    const dir = copyOfAudit();
    const gone = producers[1]!;
    for (const stream of ['decisions', 'approvals', 'sessions']) {
      const file = join(dir, `${stream}.jsonl`);
      try {
        writeLines(file, readLines(file).filter((record) => chainOf(record).producer_id !== gone));
      } catch {
        // a stream no run wrote
      }
    }
    writeLines(join(dir, 'digests.jsonl'), digestsOf(dir).filter((record) => record.producer_id !== gone));
    const result = await verifyCopy(dir);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, new RegExp(`producer-missing: producer ${gone} is missing from the trail: the start record of producer ${producers[2]}`));
  });

  it('a tail cut from the last run is named by its stop record; cut with its stop and last checkpoints, by the clock', async () => {
    const last = producers[2]!;
    const cut = copyOfAudit();
    const kept = decisionsOf(cut).filter((record) => !(chainOf(record).producer_id === last && chainOf(record).seq >= 20));
    writeLines(join(cut, 'decisions.jsonl'), kept);
    const result = await verifyCopy(cut);
    assert.equal(result.code, 1);
    assert.match(result.stdout, new RegExp(`truncated: .* attests decisions of producer ${last} up to seq 25, but its decisions chain ends at seq 19: records were cut`));

    // The forger also removes the stop record and every digest and checkpoint after the cut.
    const deeper = copyOfAudit();
    writeLines(join(deeper, 'decisions.jsonl'), decisionsOf(deeper).filter((record) => !(chainOf(record).producer_id === last && chainOf(record).seq >= 20)));
    const digests = digestsOf(deeper);
    const firstBeyond = digests.findIndex((record) => record.producer_id === last && ((record.stream === 'decisions' && record.last_seq >= 20) || record.event === 'stop'));
    writeLines(join(deeper, 'digests.jsonl'), digests.filter((record, index) => record.producer_id !== last || index < firstBeyond));
    const later = new Date(Date.now() + 3600_000).toISOString();
    const quiet = await verifyCopy(deeper, '--as-of', later);
    assert.equal(quiet.code, 1, quiet.stdout);
    assert.match(quiet.stdout, new RegExp(`tail-cut: producer ${last} has no stop record and no checkpoint since .* and no later run names it`));
  });

  it('the stop record of an earlier run removed with its tail is named by the run after it', async () => {
    const dir = copyOfAudit();
    const first = producers[0]!;
    writeLines(join(dir, 'decisions.jsonl'), decisionsOf(dir).filter((record) => !(chainOf(record).producer_id === first && chainOf(record).seq >= 22)));
    writeLines(join(dir, 'digests.jsonl'), digestsOf(dir).filter((record) => !(record.producer_id === first && (record.event === 'stop' || (record.stream === 'decisions' && record.last_seq >= 22)))));
    const result = await verifyCopy(dir);
    assert.equal(result.code, 1);
    assert.match(result.stdout, new RegExp(`stop-missing: producer ${first} stopped cleanly according to the start record of producer ${producers[1]}`));
    assert.match(result.stdout, new RegExp(`truncated: .* decisions of producer ${first} up to seq 25, but its decisions chain ends at seq 21`));
  });

  it('the folder\'s JWKS replaced by an attacker\'s key and everything re-signed passes unpinned, and fails pinned by file or thumbprint', async () => {
    const forgedState = join(stateDir, 'forged-state');
    mkdirSync(forgedState);
    const dir = join(forgedState, 'audit');
    cpSync(auditDir, dir, { recursive: true });
    const attacker = await loadOrCreateSigningKey(join(forgedState, 'audit-signing'), 'attacker key');
    // A careful forger re-signs every digest and checkpoint, and re-links each to the one before.
    const { digestPayload, checkpointPayload, sha256 } = await import('@portcullis/pdp');
    const lastSignature = new Map<string, string>();
    const resigned: Json[] = [];
    for (const record of digestsOf(dir)) {
      const { signature: _signature, ...fields } = record;
      const isDigest = record.type === 'portcullis.audit.digest.v1';
      const link = isDigest ? `${record.producer_id}/${record.stream}` : `${record.producer_id}/checkpoints`;
      const previous = lastSignature.has(link) ? sha256(lastSignature.get(link)!) : null;
      if (isDigest) fields.previous_digest = previous;
      else fields.previous = previous;
      const payload = isDigest ? digestPayload(fields as never) : checkpointPayload(fields as never);
      const signature = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ES256', kid: attacker.kid }).sign(attacker.privateKey);
      lastSignature.set(link, signature);
      resigned.push({ ...fields, signature });
    }
    writeLines(join(dir, 'digests.jsonl'), resigned);
    const unpinned = await auditCli(forgedState, 'verify');
    assert.equal(unpinned.code, 0, unpinned.stdout);
    assert.equal(unpinned.code, 0, 'unpinned, the forger\'s own key vouches for the forgery: hence the warning');
    assert.match(unpinned.stderr, /WARNING/);
    const byFile = await auditCli(forgedState, 'verify', '--jwks', pinnedJwks);
    assert.equal(byFile.code, 1);
    assert.match(byFile.stdout, new RegExp(`bad-signature: .*signed with key ${attacker.kid}, which is not in the JWKS`));
    const byThumbprint = await auditCli(forgedState, 'verify', '--key-thumbprint', realThumbprints[1]!);
    assert.equal(byThumbprint.code, 1);
    assert.match(byThumbprint.stdout, new RegExp(`untrusted-key: no key in .* has the pinned thumbprint\\(s\\) ${realThumbprints[1]} \\(it holds ${attacker.kid}\\): the keys were replaced`));
    const byEnvironment = await runAuditCommand(['verify'], loadPdpConfig({ PORTCULLIS_STATE_DIR: forgedState, PORTCULLIS_AUDIT_TRUSTED_KEY_THUMBPRINT: realThumbprints[1]! }), { stdout: { write: () => true }, stderr: { write: () => true } });
    assert.equal(byEnvironment, 1);
  });

  it('reordered lines pass (the chain orders them); records swapped and re-chained, duplicated or altered are named', async () => {
    const reordered = copyOfAudit();
    writeLines(join(reordered, 'decisions.jsonl'), decisionsOf(reordered).reverse());
    assert.equal((await verifyCopy(reordered)).code, 0);

    const swapped = copyOfAudit();
    const [victim] = producers;
    const records = decisionsOf(swapped);
    const a = records.findIndex((record) => chainOf(record).producer_id === victim && chainOf(record).seq === 3);
    const b = records.findIndex((record) => chainOf(record).producer_id === victim && chainOf(record).seq === 4);
    [records[a], records[b]] = [records[b]!, records[a]!];
    writeLines(join(swapped, 'decisions.jsonl'), rehash(records, victim!));
    const swappedResult = await verifyCopy(swapped);
    assert.equal(swappedResult.code, 1);
    // Which digests cover seq 3 and 4 depends on when the 1-second digest timer fired between
    // decisions (under load, one may end at seq 2 or 3, and later ones begin after 4): the ones
    // whose ranges hold them are named, and so is every later one, as re-chaining changed the
    // hash of every record from seq 3 on; none that ends before the swap is.
    const named = [...swappedResult.stdout.matchAll(/digest-mismatch: digest of decisions seq (\d+)\.\.(\d+) by producer .* does not match its records/g)]
      .map((match) => [Number(match[1]), Number(match[2])] as const);
    assert.ok(named.length > 0, swappedResult.stdout);
    for (const seq of [3, 4]) assert.ok(named.some(([first, last]) => first <= seq && seq <= last), `a named digest covers seq ${seq}: ${JSON.stringify(named)}`);
    assert.ok(named.every(([, last]) => last >= 3), `no digest over records before the swap is named: ${JSON.stringify(named)}`);

    const duplicated = copyOfAudit();
    const lines = decisionsOf(duplicated);
    writeLines(join(duplicated, 'decisions.jsonl'), [...lines, lines[7]!]);
    const harmless = await verifyCopy(duplicated);
    assert.equal(harmless.code, 0, harmless.stdout);
    assert.match(harmless.stdout, /duplicate record\(s\) with identical hashes/);
    const forgedCopy = structuredClone(lines[7]!);
    forgedCopy.unmapped.portcullis.effect = 'deny';
    chainOf(forgedCopy).hash = recordHash(forgedCopy);
    writeLines(join(duplicated, 'decisions.jsonl'), [...lines, forgedCopy]);
    assert.match((await verifyCopy(duplicated)).stdout, /duplicate-conflict: decisions chain of producer .* has two different records with seq/);

    const appended = copyOfAudit();
    const all = decisionsOf(appended);
    const tail = all.filter((record) => chainOf(record).producer_id === producers[2]).at(-1)!;
    const extra = structuredClone(tail);
    Object.assign(chainOf(extra), { seq: chainOf(tail).seq + 1, prev_hash: chainOf(tail).hash, hash: '' });
    extra.unmapped.portcullis.decision_id = 'forged-after-stop';
    chainOf(extra).hash = recordHash(extra);
    writeLines(join(appended, 'decisions.jsonl'), [...all, extra]);
    const after = await verifyCopy(appended);
    assert.equal(after.code, 1);
    assert.match(after.stdout, /unattested: decisions chain of producer .*: 1 record\(s\) \(seq 26\.\.26\) are attested by no signed checkpoint although the producer stopped cleanly/);

    const altered = copyOfAudit();
    const one = decisionsOf(altered);
    one[30]!.unmapped.portcullis.effect = auditBodyOf(one[30])?.effect === 'allow' ? 'deny' : 'allow';
    writeLines(join(altered, 'decisions.jsonl'), one);
    assert.match((await verifyCopy(altered)).stdout, /hash-mismatch: decisions record seq \d+ .* was altered/);
  });

  it('records with their start record, or the whole digests stream, removed are unannounced and unattested', async () => {
    const noStart = copyOfAudit();
    writeLines(join(noStart, 'digests.jsonl'), digestsOf(noStart).filter((record) => !(record.producer_id === producers[0] && record.event === 'start')));
    const result = await verifyCopy(noStart);
    assert.equal(result.code, 1);
    assert.match(result.stdout, new RegExp(`producer-unannounced: producer ${producers[0]} has records but no signed start record`));

    const noDigests = copyOfAudit();
    writeFileSync(join(noDigests, 'digests.jsonl'), '');
    const bare = await verifyCopy(noDigests);
    assert.equal(bare.code, 1);
    for (const producer of producers) assert.match(bare.stdout, new RegExp(`producer-unannounced: producer ${producer}`));
    assert.match(bare.stdout, /unattested/);
  });
});
