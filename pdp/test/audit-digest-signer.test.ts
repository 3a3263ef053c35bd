import assert from 'node:assert/strict';
import { chmod, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { canonicalJson } from '../src/audit/trail/canonical-json.ts';
import { digestLinkHash, digestRootHash } from '../src/audit/trail/digest-record.ts';
import { auditSigningDirectory, DigestSigner } from '../src/audit/trail/digest-signer.ts';
import { HashChain, type LinkedRecord } from '../src/audit/trail/hash-chain.ts';
import { toOcsfRecord } from '../src/audit/ocsf/ocsf-record.ts';
import { PRODUCT, decisionEvent, sessionStatementEvent, tempDir } from './audit-fixtures.ts';

describe('digest signer', () => {
  let root: { path: string; remove: () => Promise<void> };
  let counter = 0;
  const freshDirectory = (): string => auditSigningDirectory(join(root.path, `state-${(counter += 1)}`));
  const NOW = new Date('2026-11-25T23:00:00.000Z');

  before(async () => {
    root = await tempDir('portcullis-digest-');
  });
  after(() => root.remove());

  function linkDecisions(chain: HashChain, count: number): LinkedRecord[] {
    return Array.from({ length: count }, () => chain.link('decisions', toOcsfRecord(decisionEvent(), PRODUCT)));
  }

  test('signs a digest of the records since the last one: range, count, last hash, root hash, ES256 with kid', async () => {
    const signer = new DigestSigner({ directory: freshDirectory(), now: () => NOW });
    assert.equal(await signer.digest('decisions'), undefined, 'nothing appended yet');
    const records = linkDecisions(new HashChain('pdp-a'), 5);
    for (const record of records) signer.append(record);
    const digest = await signer.digest('decisions');
    assert.ok(digest);
    const hashes = records.map((record) => record.unmapped.portcullis.chain.hash);
    assert.deepEqual({ ...digest, signature: undefined }, {
      type: 'portcullis.audit.digest.v1', producer_id: 'pdp-a', stream: 'decisions', first_seq: 0, last_seq: 4, count: 5,
      last_hash: hashes[4], root_hash: digestRootHash(hashes), previous_digest: null, time: NOW.toISOString(), signature: undefined,
    });
    assert.equal(digest.root_hash, `sha256:${(await import('node:crypto')).createHash('sha256').update(hashes.join('\n')).digest('hex')}`);

    const jwks = await signer.publicJwks();
    const header = decodeProtectedHeader(digest.signature);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.kid, jwks.keys[0]?.kid);
    const { payload } = await compactVerify(digest.signature, createLocalJWKSet(jwks));
    const { signature: _signature, ...fields } = digest;
    assert.equal(new TextDecoder().decode(payload), canonicalJson(fields));
    assert.equal(await signer.digest('decisions'), undefined, 'nothing new since the digest');
  });

  test('each digest covers only the new records and links to the previous digest of its producer and stream', async () => {
    const signer = new DigestSigner({ directory: freshDirectory() });
    const chain = new HashChain('pdp-b');
    for (const record of linkDecisions(chain, 3)) signer.append(record);
    const first = await signer.digest('decisions');
    for (const record of linkDecisions(chain, 2)) signer.append(record);
    signer.append(chain.link('sessions', toOcsfRecord(sessionStatementEvent('SELECT 1'), PRODUCT)));
    const second = await signer.digest('decisions');
    const sessions = await signer.digest('sessions');
    assert.ok(first && second && sessions);
    assert.deepEqual([second.first_seq, second.last_seq, second.count], [3, 4, 2]);
    assert.equal(second.previous_digest, digestLinkHash(first.signature));
    assert.deepEqual([sessions.stream, sessions.first_seq, sessions.count, sessions.previous_digest], ['sessions', 0, 1, null]);
  });

  test('keeps its key in <state>/audit-signing: private key 0600 in a 0700 folder, public jwks.json, reused by the next signer', async () => {
    const directory = freshDirectory();
    assert.match(directory, /audit-signing$/);
    const signer = new DigestSigner({ directory });
    signer.append(linkDecisions(new HashChain('pdp-c'), 1)[0]!);
    const digest = await signer.digest('decisions');
    assert.ok(digest);
    assert.deepEqual((await readdir(directory)).sort(), ['jwks.json', 'private-key.jwk']);
    assert.equal((await stat(join(directory, 'private-key.jwk'))).mode & 0o777, 0o600);
    assert.equal((await stat(directory)).mode & 0o077, 0);
    const published = await readFile(join(directory, 'jwks.json'), 'utf8');
    assert.ok(!published.includes('"d"'), 'jwks.json holds private key material');
    const again = new DigestSigner({ directory });
    assert.deepEqual(await again.publicJwks(), JSON.parse(published));
    await compactVerify(digest.signature, createLocalJWKSet(JSON.parse(published)));
  });

  test('refuses a seq that does not follow, asks which producer when several write a stream, and digestAll covers each', async () => {
    const signer = new DigestSigner({ directory: freshDirectory() });
    const [zero, one, two] = linkDecisions(new HashChain('pdp-d'), 3);
    signer.append(zero!);
    assert.throws(() => signer.append(two!), /seq 2 after seq 0/);
    signer.append(one!);
    signer.append(linkDecisions(new HashChain('pdp-e'), 1)[0]!);
    await assert.rejects(signer.digest('decisions'), /several producers write decisions \(pdp-d, pdp-e\)/);
    const named = await signer.digest('decisions', 'pdp-e');
    assert.equal(named?.producer_id, 'pdp-e');
    signer.append(two!);
    const all = await signer.digestAll();
    assert.deepEqual(all.map((digest) => [digest.producer_id, digest.first_seq, digest.last_seq]), [['pdp-d', 0, 2]]);
    assert.deepEqual(await signer.digestAll(), []);
  });

  test('when signing fails the records stay pending and the next digest covers them', async () => {
    const directory = freshDirectory();
    const signer = new DigestSigner({ directory });
    const chain = new HashChain('pdp-f');
    signer.append(linkDecisions(chain, 1)[0]!);
    assert.ok(await signer.digest('decisions'));
    await chmod(join(directory, 'private-key.jwk'), 0o644);
    const failing = new DigestSigner({ directory });
    for (const record of linkDecisions(chain, 2)) failing.append(record);
    await assert.rejects(failing.digest('decisions'), /audit signing key .* is accessible to other users/);
    failing.append(linkDecisions(chain, 1)[0]!);
    await chmod(join(directory, 'private-key.jwk'), 0o600);
    const digest = await failing.digest('decisions');
    assert.deepEqual([digest?.first_seq, digest?.last_seq, digest?.count], [1, 3, 3]);
  });

  test('digests asked for at once are made one after the other and never overlap', async () => {
    const signer = new DigestSigner({ directory: freshDirectory() });
    const chain = new HashChain('pdp-g');
    signer.append(linkDecisions(chain, 1)[0]!);
    const first = signer.digest('decisions');
    // Appended before the first digest is signed: the first digest covers it too.
    signer.append(linkDecisions(chain, 1)[0]!);
    const second = signer.digest('decisions');
    const [a, b] = await Promise.all([first, second]);
    assert.deepEqual([a?.first_seq, a?.last_seq], [0, 1]);
    assert.equal(b, undefined);
    signer.append(linkDecisions(chain, 1)[0]!);
    const [c, d] = await Promise.all([signer.digest('decisions'), signer.digest('decisions')]);
    assert.deepEqual([c?.first_seq, c?.last_seq, d], [2, 2, undefined]);
    assert.equal(c?.previous_digest, digestLinkHash(a!.signature));
  });
});
