import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync, createHash } from 'node:crypto';
import { recordHash, auditBodyOf } from '@portcullis/pdp';
import { auditCli } from '../support/audit-cli.ts';
import { eventually } from '../support/eventually.ts';
import { installedOpa, startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';

type Json = Record<string, any>;
const body = (record: Json): Json => auditBodyOf(record) as Json;
const readLines = (file: string): Json[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Json);
const writeLines = (file: string, records: readonly Json[]): void => writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The starter pack with its data edited, built by the real opa into a WASM bundle of the given revision (signed when a key is given). */
function buildBundle(revision: string, output: string, edit: (data: Json) => void = () => {}, signingKey?: string): Buffer {
  const source = mkdtempSync(join(tmpdir(), 'portcullis-attest-source-'));
  try {
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(source, 'portcullis'), { recursive: true });
    const dataFile = join(source, 'portcullis/data.json');
    const data = JSON.parse(readFileSync(dataFile, 'utf8')) as Json;
    edit(data);
    writeFileSync(dataFile, JSON.stringify(data, null, 2));
    const signing = signingKey ? ['--signing-key', signingKey, '--signing-alg', 'ES256'] : [];
    execFileSync(installedOpa(), ['build', '-t', 'wasm', '-O=1', '-e', 'portcullis/decision', '-r', revision, '--bundle', ...signing, '-o', output, '.'], { cwd: source });
    return readFileSync(output);
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

const ordersQuery = (token: string) => ({ subject_token: token, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'SELECT id FROM orders' } });

describe('bundle activations in the decisions stream vouch for the archived bundles replay uses (a Rego folder, swapped mid-run)', () => {
  let pdp: TestPdp;
  let folder: string;
  let work: string;
  let revisions: [string, string];

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'portcullis-attest-policy-'));
    work = mkdtempSync(join(tmpdir(), 'portcullis-attest-work-'));
    cpSync(join(REPOSITORY_ROOT, 'policies/portcullis'), join(folder, 'portcullis'), { recursive: true });
    pdp = await startTestPdp({ PORTCULLIS_POLICY_DIR: folder });
    const agent = await pdp.token({ sub: 'agent-attest', roles: ['reader'] });
    const first = (await pdp.decide(ordersQuery(agent))).body as Json;
    assert.equal(first.effect, 'allow');
    assert.equal((await pdp.decide({ ...ordersQuery(agent), action: { type: 'sql', sql: 'DELETE FROM orders' } })).body.effect, 'deny');
    // The swap: orders-db leaves the data, so the same query is now denied by the new revision.
    const dataFile = join(folder, 'portcullis/data.json');
    const data = JSON.parse(readFileSync(dataFile, 'utf8')) as Json;
    delete data.resources['orders-db'];
    writeFileSync(dataFile, JSON.stringify(data, null, 2));
    const second = await eventually('the edited folder to answer', async () => {
      const decision = (await pdp.decide(ordersQuery(agent))).body as Json;
      return decision.effect === 'deny' && decision;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    assert.equal((await pdp.decide(ordersQuery(agent))).body.effect, 'deny');
    revisions = [first.policy_revision as string, second.policy_revision as string];
    assert.notEqual(revisions[0], revisions[1]);
    await pdp.close({ keepState: true });
  });
  after(() => {
    rmSync(pdp.stateDir, { recursive: true, force: true });
    rmSync(folder, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  const auditDir = () => join(pdp.stateDir, 'audit');
  const decisionsFile = () => join(auditDir(), 'decisions.jsonl');

  it('two activation records, each before the decisions of its revision, name the exact archived bytes; each decision replays with its own bundle', async () => {
    const records = readLines(decisionsFile());
    const activations = records.filter((record) => body(record).event === 'bundle.activated');
    assert.deepEqual(activations.map((record) => [body(record).role, body(record).revision, body(record).previous_revision]), [
      ['live', revisions[0], null],
      ['live', revisions[1], revisions[0]],
    ]);
    for (const activation of activations) {
      const fields = body(activation);
      assert.deepEqual(fields.source, { kind: 'rego-folder', location: folder });
      assert.deepEqual(fields.signature, { status: 'unsigned' });
      const [file] = readdirSync(join(pdp.stateDir, 'bundles')).filter((name) => name.startsWith(`${encodeURIComponent(fields.revision)}@`));
      assert.equal(sha256(readFileSync(join(pdp.stateDir, 'bundles', file!))), fields.digest, 'the digest is that of the archived bytes');
      assert.equal(activation.class_uid, 3004);
    }
    // Chain order: no decision names a revision before the record of its activation.
    const activatedAt = new Map(activations.map((record) => [body(record).revision as string, body(record).chain.seq as number]));
    const decisions = records.filter((record) => body(record).event === 'decision');
    assert.ok(decisions.every((record) => body(record).chain.seq > activatedAt.get(body(record).policy_revision)!));

    const replayed = await auditCli(pdp.stateDir, 'replay');
    assert.equal(replayed.code, 0, replayed.stdout);
    assert.match(replayed.stdout, new RegExp(`decisions re-verified: ${decisions.length} of ${decisions.length}`));
    for (const revision of revisions) assert.match(replayed.stdout, new RegExp(`revision ${revision} \\(sha256:[0-9a-f]{64}, as its activation record attests\\)`));
    const verified = await auditCli(pdp.stateDir, 'verify');
    assert.equal(verified.code, 0, verified.stdout);
  });

  it('a bundle in the archive folder replaced by another valid bundle of the same revision: replay names its decisions unattested, never re-verified', async () => {
    const archive = mkdtempSync(join(work, 'bundles-'));
    cpSync(join(pdp.stateDir, 'bundles'), archive, { recursive: true });
    const victim = revisions[1];
    const [original] = readdirSync(archive).filter((name) => name.startsWith(`${encodeURIComponent(victim)}@`));
    rmSync(join(archive, original!));
    // A valid bundle stating the same revision: the starter pack as shipped, which still knows orders-db.
    const substitute = buildBundle(victim, join(work, 'substitute.tar.gz'));
    writeFileSync(join(archive, `${encodeURIComponent(victim)}@${sha256(substitute).slice('sha256:'.length)}.tar.gz`), substitute);

    const replayed = await auditCli(pdp.stateDir, 'replay', '--bundles', archive);
    assert.equal(replayed.code, 1, replayed.stdout);
    const decisions = readLines(decisionsFile()).filter((record) => body(record).event === 'decision');
    const ofVictim = decisions.filter((record) => body(record).policy_revision === victim);
    assert.match(replayed.stdout, new RegExp(`decisions re-verified: ${decisions.length - ofVictim.length} of ${decisions.length}`));
    const named = replayed.stdout.split('\n').filter((line) => line.includes('✗'));
    assert.equal(named.length, ofVictim.length, replayed.stdout);
    for (const record of ofVictim) {
      assert.ok(named.some((line) => line.includes(body(record).decision_id) && line.includes(`unattested: the bundle archive ${archive} holds no bundle of revision ${victim} with the bytes its activation record`)), replayed.stdout);
    }

    // Filed under the attested address but with other bytes: the bytes are named as altered.
    rmSync(join(archive, readdirSync(archive).find((name) => name.startsWith(`${encodeURIComponent(victim)}@`))!));
    writeFileSync(join(archive, original!), substitute);
    const altered = await auditCli(pdp.stateDir, 'replay', '--bundles', archive);
    assert.equal(altered.code, 1);
    assert.match(altered.stdout, new RegExp(`revision ${victim} unattested: .*it was altered`));
  });

  it('an activation record removed or altered makes verify fail, naming the revision; replay then names its decisions unattested', async () => {
    const records = readLines(decisionsFile());
    const index = records.findIndex((record) => body(record).event === 'bundle.activated' && body(record).revision === revisions[1]);
    assert.ok(index > 0);

    const removedState = mkdtempSync(join(work, 'removed-'));
    cpSync(pdp.stateDir, removedState, { recursive: true });
    writeLines(join(removedState, 'audit', 'decisions.jsonl'), records.filter((_, at) => at !== index));
    const removed = await auditCli(removedState, 'verify');
    assert.equal(removed.code, 1, removed.stdout);
    assert.match(removed.stdout, new RegExp(`unattested-revision: policy revision ${revisions[1]} has no bundle\\.activated record in the decisions chain of producer`));
    const replayRemoved = await auditCli(removedState, 'replay');
    assert.equal(replayRemoved.code, 1);
    assert.match(replayRemoved.stdout, new RegExp(`revision ${revisions[1]} unattested: no bundle\\.activated record in the trail attests revision ${revisions[1]}`));

    // Altered to name other bytes, its hash recomputed: the chain breaks at the next record, and the altered record attests nothing.
    const alteredState = mkdtempSync(join(work, 'altered-'));
    cpSync(pdp.stateDir, alteredState, { recursive: true });
    const forged = structuredClone(records);
    // The digest is stored under unmapped.portcullis (no OCSF attribute holds it): the forger edits it there.
    forged[index]!.unmapped.portcullis.digest = `sha256:${'0'.repeat(64)}`;
    const verifiedForged = await (async () => {
      writeLines(join(alteredState, 'audit', 'decisions.jsonl'), forged);
      return auditCli(alteredState, 'verify');
    })();
    assert.equal(verifiedForged.code, 1);
    assert.match(verifiedForged.stdout, /hash-mismatch/);
    assert.match(verifiedForged.stdout, new RegExp(`unattested-revision: policy revision ${revisions[1]}`));
    body(forged[index]!).chain.hash = recordHash(forged[index]);
    writeLines(join(alteredState, 'audit', 'decisions.jsonl'), forged);
    const rehashed = await auditCli(alteredState, 'verify');
    assert.equal(rehashed.code, 1);
    assert.match(rehashed.stdout, /broken-link/);
    const replayAltered = await auditCli(alteredState, 'replay');
    assert.equal(replayAltered.code, 1);
    assert.match(replayAltered.stdout, new RegExp(`revision ${revisions[1]} unattested: .*holds no bundle of revision ${revisions[1]} with the bytes its activation record .* attests, sha256:0{64}`));
  });
});

describe('a signed bundle: its activation names the key, and replay checks the archived bundle\'s signature with the key it is given', () => {
  let pdp: TestPdp;
  let work: string;
  let keyFile: string;
  let otherKeyFile: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'portcullis-attest-signed-'));
    const key = (name: string): { privateFile: string; publicFile: string } => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const privateFile = join(work, `${name}.pem`);
      const publicFile = join(work, `${name}.pub.pem`);
      writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
      return { privateFile, publicFile };
    };
    const signing = key('signing');
    const other = key('other');
    keyFile = signing.publicFile;
    otherKeyFile = other.publicFile;
    const bundleFile = join(work, 'bundle.tar.gz');
    buildBundle('signed-release-1', bundleFile, () => {}, signing.privateFile);
    pdp = await startTestPdp({ PORTCULLIS_BUNDLE_FILE: bundleFile, PORTCULLIS_BUNDLE_VERIFICATION_KEY: keyFile });
    const agent = await pdp.token({ sub: 'agent-signed', roles: ['reader'] });
    assert.equal((await pdp.decide(ordersQuery(agent))).body.effect, 'allow');
    await pdp.close({ keepState: true });
  });
  after(() => {
    rmSync(pdp.stateDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('records the verifying key; replay re-verifies with that key and names the decisions unattested with another', async () => {
    const [activation] = readLines(join(pdp.stateDir, 'audit', 'decisions.jsonl')).filter((record) => body(record).event === 'bundle.activated');
    const signature = body(activation!).signature;
    assert.equal(signature.status, 'verified');
    assert.equal(signature.algorithm, 'ES256');
    assert.match(signature.key_sha256, /^sha256:[0-9a-f]{64}$/);

    const replayed = await auditCli(pdp.stateDir, 'replay', '--bundle-key', keyFile);
    assert.equal(replayed.code, 0, replayed.stdout);
    assert.match(replayed.stdout, /decisions re-verified: 1 of 1/);
    const otherKey = await auditCli(pdp.stateDir, 'replay', '--bundle-key', otherKeyFile);
    assert.equal(otherKey.code, 1, otherKey.stdout);
    assert.match(otherKey.stdout, /decisions re-verified: 0 of 1/);
    assert.match(otherKey.stdout, /unattested: revision signed-release-1: the archived bundle's signature does not verify with the given key/);
  });
});
