import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildBundleFile, writeSigningKeyPair, type SigningKeyFiles } from '../support/signed-bundles.ts';
import { changedIds, recordRun, type RecordedRun } from './support/policy-impact-run.ts';

/**
 * A PDP that serves only signed bundles (PORTCULLIS_BUNDLE_VERIFICATION_KEY) holds a candidate to
 * the same rule: impact verifies it with the same verifier and key, refuses one the PDP would
 * refuse (exit 3, nothing evaluated), and analyses it anyway only when asked (--unsigned-candidate),
 * saying so in the report.
 */
describe('portcullis policy impact: the candidate is held to the PDP\'s bundle signature rule', () => {
  let recorded: RecordedRun;
  let keys: SigningKeyFiles;
  let otherKeys: SigningKeyFiles;
  let signedTightening: string;
  let unsignedTightening: string;
  let signedByAnother: string;
  let requireSigned: Record<string, string>;

  before(async () => {
    recorded = await recordRun();
    const bundles = join(recorded.work, 'bundles');
    mkdirSync(bundles);
    keys = writeSigningKeyPair(bundles);
    otherKeys = writeSigningKeyPair(bundles, 'another');
    const folder = recorded.tightening();
    signedTightening = join(bundles, 'signed.tar.gz');
    buildBundleFile(folder, signedTightening, 'candidate-signed', keys.privateKeyFile);
    unsignedTightening = join(bundles, 'unsigned.tar.gz');
    buildBundleFile(folder, unsignedTightening, 'candidate-unsigned', undefined);
    signedByAnother = join(bundles, 'another.tar.gz');
    buildBundleFile(folder, signedByAnother, 'candidate-another', otherKeys.privateKeyFile);
    requireSigned = { PORTCULLIS_BUNDLE_VERIFICATION_KEY: keys.publicKeyFile };
  });
  after(async () => {
    await recorded?.pdp.close();
    if (recorded) rmSync(recorded.work, { recursive: true, force: true });
  });

  const json = async (args: string[], env: Record<string, string>) => {
    const run = await recorded.impact([...args, '--format', 'json'], env);
    return { run, report: run.stdout ? JSON.parse(run.stdout) : undefined };
  };

  it('a candidate signed with the PDP\'s key is verified, analysed, and the report says with which key', async () => {
    const { run, report } = await json(['--bundle', signedTightening], requireSigned);
    assert.equal(run.code, 0, run.stderr);
    assert.match(report.candidate.signature, new RegExp(`^verified with PORTCULLIS_BUNDLE_VERIFICATION_KEY \\(${keys.publicKeyFile.replaceAll('.', '\\.')}\\)`));
    assert.deepEqual(changedIds(report), recorded.named('stagingDelete'));
  });

  it('an unsigned bundle, a Rego folder (built unsigned) and a bundle signed with another key are refused: exit 3, nothing evaluated', async () => {
    const cases: Array<[string, RegExp]> = [
      [unsignedTightening, /bundle is not signed/],
      [recorded.tightening(), /a Rego folder is built unsigned/],
      [signedByAnother, /signature verification failed/],
    ];
    for (const [candidate, why] of cases) {
      const run = await recorded.impact(['--bundle', candidate], requireSigned);
      assert.equal(run.code, 3, `${candidate}: ${run.stderr}`);
      assert.match(run.stderr, /fails the signature check this PDP applies to every bundle it serves \(PORTCULLIS_BUNDLE_VERIFICATION_KEY/);
      assert.match(run.stderr, why);
      assert.match(run.stderr, /--unsigned-candidate to analyse it anyway/);
      assert.equal(run.stdout, '', 'no report');
    }
  });

  it('--unsigned-candidate analyses it anyway, and every format says it was not verified', async () => {
    const { run, report } = await json(['--bundle', unsignedTightening, '--unsigned-candidate'], requireSigned);
    assert.equal(run.code, 0, run.stderr);
    assert.match(report.candidate.signature, /^NOT verified \(bundle is not signed .*\); analysed anyway by --unsigned-candidate/);
    assert.deepEqual(changedIds(report), recorded.named('stagingDelete'));
    const table = await recorded.impact(['--bundle', unsignedTightening, '--unsigned-candidate'], requireSigned);
    assert.match(table.stdout, /candidate signature: NOT verified/);
    const markdown = await recorded.impact(['--bundle', unsignedTightening, '--unsigned-candidate', '--format', 'md'], requireSigned);
    assert.match(markdown.stdout, /Candidate signature: NOT verified/);
  });

  it('a PDP that serves unsigned bundles checks no signature, and the report says so', async () => {
    const { run, report } = await json(['--bundle', unsignedTightening], {});
    assert.equal(run.code, 0, run.stderr);
    assert.match(report.candidate.signature, /^not checked: this PDP serves unsigned bundles/);
  });
});
