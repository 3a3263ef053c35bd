import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { CompactSign } from 'jose';
import { createBundleVerifier, digestBundleFile } from '../src/policy/bundle-signature-verifier.ts';
import { parsePolicyBundle } from '../src/policy/policy-bundle.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const OPA = execFileSync('bash', [join(REPO, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8' }).trim();
const temp = mkdtempSync(join(tmpdir(), 'portcullis-bundle-signature-'));
after(() => rmSync(temp, { recursive: true, force: true }));

type BundleFiles = { path: string; bytes: Buffer }[];

/**
 * Data with everything a naive hash of the raw bytes or of JSON.stringify would get wrong:
 * keys out of order, nesting, number literals (1.5, 10, 1e3, 1E+3, -0.0, beyond 2^53),
 * non-ASCII and astral keys (UTF-8 order differs from UTF-16 order), HTML and control chars.
 */
const DATA_JSON = String.raw`{
  "zeta": {"b": [1.5, 10, 1e3, {"y": "ü€😀", "x": "<a&b>"}], "a": -0.0, "big": 12345678901234567890123},
  "limits": {"x": 1, "e": 1E+3},
  "alpha": "tab\tline\nsep\u2028bell\u0007 slash/ quote\" back\\",
  "é": 1, "😀": 2, "\uffff": 3, "Z": 4
}`;

/** The same document written differently: other key order, whitespace, escapes. */
const DATA_JSON_REWRITTEN = String.raw`{"\uFFFF":3,"\ud83d\ude00"  :  2,"\u00e9":1,"Z":4,
  "alpha":"tab\u0009line\u000asep` + '\u2028' + String.raw`bell\u0007 slash\/ quote\u0022 back\u005c",
  "limits":{"e":1E+3,"x":1},
  "zeta":{"big":12345678901234567890123,"a":-0.0,"b":[1.5,10,1e3,{"x":"\u003ca\u0026b\u003e","y":"\u00fc\u20ac\ud83d\ude00"}]}}`;

const POLICY = 'package portcullis\nimport data.limits\ndefault decision := false\ndecision if input.x == limits.x\n';

interface KeyFiles {
  privatePath: string;
  publicPem: string;
}

let keySeq = 0;
function keyPair(kind: 'rsa' | 'ec'): KeyFiles {
  const pair =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePath = join(temp, `key-${++keySeq}.pem`);
  writeFileSync(privatePath, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { privatePath, publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

let dirSeq = 0;
function tempDir(name: string): string {
  const dir = join(temp, `${name}-${++dirSeq}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `opa build -b -t wasm` of a policy folder, signed by opa itself. */
function opaSignedBundle(key: KeyFiles, alg: string, extraArgs: string[] = []): Buffer {
  const folder = tempDir('policy');
  writeFileSync(join(folder, 'policy.rego'), POLICY);
  writeFileSync(join(folder, 'data.json'), DATA_JSON);
  const out = join(tempDir('out'), 'bundle.tar.gz');
  execFileSync(OPA, ['build', '-b', '-t', 'wasm', '-O=1', '-e', 'portcullis/decision', '--signing-key', key.privatePath, '--signing-alg', alg, ...extraArgs, '-o', out, '.'], { cwd: folder });
  return readFileSync(out);
}

/** What opa itself says about a bundle, as the reference our verifier must agree with. */
function opaAccepts(files: BundleFiles, publicPem: string, alg: string): boolean {
  const dir = tempDir('opa-verify');
  writeFileSync(join(dir, 'public.pem'), publicPem);
  writeFileSync(join(dir, 'bundle.tar.gz'), writeTarGz(files));
  const result = spawnSync(OPA, ['build', '-b', 'bundle.tar.gz', '--verification-key', 'public.pem', '--signing-alg', alg, '-o', 'checked.tar.gz'], { cwd: dir });
  return result.status === 0;
}

function filesOf(archive: Buffer): BundleFiles {
  return parsePolicyBundle(archive).files.map((file) => ({ path: file.path, bytes: Buffer.from(file.bytes) }));
}

function replaced(files: BundleFiles, path: string, bytes: Buffer): BundleFiles {
  assert.ok(files.some((file) => file.path === path), `bundle has no ${path}`);
  return files.map((file) => (file.path === path ? { path, bytes } : file));
}

/** A minimal ustar writer, so tests can repack a bundle as an attacker would. */
function writeTarGz(files: BundleFiles): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const header = Buffer.alloc(512);
    header.write(file.path, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${file.bytes.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\u000000', 257);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, file.bytes, Buffer.alloc((512 - (file.bytes.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe('bundle signatures made by opa', () => {
  let rsa: KeyFiles;
  let ec: KeyFiles;
  let rsaBundle: BundleFiles;
  let ecBundle: BundleFiles;

  before(() => {
    rsa = keyPair('rsa');
    ec = keyPair('ec');
    rsaBundle = filesOf(opaSignedBundle(rsa, 'RS256'));
    ecBundle = filesOf(opaSignedBundle(ec, 'ES256'));
  });

  test('an RS256 bundle signed by opa verifies', async () => {
    assert.ok(rsaBundle.some((file) => file.path === '/.signatures.json'));
    await createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(rsaBundle);
    await createBundleVerifier({ publicKeyPem: rsa.publicPem, algorithms: ['RS256'] }).verify(rsaBundle);
  });

  test('an ES256 bundle signed by opa verifies', async () => {
    await createBundleVerifier({ publicKeyPem: ec.publicPem }).verify(ecBundle);
    await createBundleVerifier({ publicKeyPem: ec.publicPem, algorithms: ['ES256'] }).verify(ecBundle);
  });

  test('data.json is hashed over OPA\'s canonical JSON, not its bytes: a rewritten equal document verifies, as opa agrees', async () => {
    const dataJson = rsaBundle.find((file) => file.path === '/data.json')!.bytes;
    const signed = signedDigests(rsaBundle);
    assert.notEqual(createHash('sha256').update(dataJson).digest('hex'), signed.get('data.json'), 'the raw bytes are not what opa signs');
    assert.equal(digestBundleFile('/data.json', dataJson, 'SHA-256').toString('hex'), signed.get('data.json'));

    const rewritten = replaced(rsaBundle, '/data.json', Buffer.from(DATA_JSON_REWRITTEN));
    assert.equal(opaAccepts(rewritten, rsa.publicPem, 'RS256'), true, 'opa accepts the rewritten data.json');
    await createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(rewritten);

    // Numbers keep their literal text in the hash: 1e3 and 1000 are different documents to OPA.
    const renumbered = replaced(rsaBundle, '/data.json', Buffer.from(DATA_JSON_REWRITTEN.replace('1e3', '1000')));
    assert.equal(opaAccepts(renumbered, rsa.publicPem, 'RS256'), false, 'opa rejects 1e3 rewritten as 1000');
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(renumbered), /\/data\.json: digest mismatch/);
  });

  test('one byte of policy.wasm changed fails, naming /policy.wasm', async () => {
    const wasm = Buffer.from(rsaBundle.find((file) => file.path === '/policy.wasm')!.bytes);
    wasm[wasm.length - 1] = wasm[wasm.length - 1]! ^ 0x01;
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(replaced(rsaBundle, '/policy.wasm', wasm)), /\/policy\.wasm: digest mismatch/);
  });

  test('a changed data.json fails, naming /data.json', async () => {
    for (const [bundle, publicKeyPem] of [[rsaBundle, rsa.publicPem], [ecBundle, ec.publicPem]] as const) {
      const tampered = replaced(bundle, '/data.json', Buffer.from(DATA_JSON.replace('"x": 1', '"x": 2')));
      await assert.rejects(createBundleVerifier({ publicKeyPem }).verify(tampered), /\/data\.json: digest mismatch/);
    }
  });

  test('a changed .manifest fails, naming /.manifest', async () => {
    const manifest = JSON.parse(rsaBundle.find((file) => file.path === '/.manifest')!.bytes.toString()) as Record<string, unknown>;
    const tampered = replaced(rsaBundle, '/.manifest', Buffer.from(JSON.stringify({ ...manifest, revision: 'forged' })));
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(tampered), /\/\.manifest: digest mismatch/);
  });

  test('an extra file added to the bundle fails, naming it', async () => {
    const extended = [...rsaBundle, { path: '/extra/data.json', bytes: Buffer.from('{"admins":["mallory"]}') }];
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(extended), /\/extra\/data\.json: file not included in bundle signature/);
    // A second copy of a signed path is an extra file too.
    const doubled = [...rsaBundle, rsaBundle.find((file) => file.path === '/data.json')!];
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(doubled), /\/data\.json: file not included/);
  });

  test('a signed file removed from the bundle fails, naming it', async () => {
    const without = rsaBundle.filter((file) => file.path !== '/data.json');
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(without), /\/data\.json listed in bundle signature but not found/);
  });

  test('a signature by another key fails', async () => {
    const other = keyPair('rsa');
    await assert.rejects(createBundleVerifier({ publicKeyPem: other.publicPem }).verify(rsaBundle), /signature verification failed/);
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(ecBundle), /signature verification failed/);
  });

  test('an unsigned bundle fails with "bundle is not signed"', async () => {
    const unsigned = rsaBundle.filter((file) => file.path !== '/.signatures.json');
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(unsigned), /bundle is not signed/);
  });

  test('the algorithm allow-list is enforced', async () => {
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem, algorithms: ['ES256'] }).verify(rsaBundle), /signature verification failed/);
    assert.throws(() => createBundleVerifier({ publicKeyPem: rsa.publicPem, algorithms: ['HS256'] }), /HS256 cannot be used/);
    assert.throws(() => createBundleVerifier({ publicKeyPem: 'not a key' }), /not a usable public key/);
  });

  test('keyId: the token must name the configured key (opa writes --verification-key-id as kid)', async () => {
    const signed = filesOf(opaSignedBundle(rsa, 'RS256', ['--verification-key-id', 'prod-2025']));
    await createBundleVerifier({ publicKeyPem: rsa.publicPem, keyId: 'prod-2025' }).verify(signed);
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem, keyId: 'staging' }).verify(signed), /key id "prod-2025", expected "staging"/);
    await createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(signed);
  });

  test('scope: the scope claim must equal the configured scope, absent on both sides by default', async () => {
    const claims = join(tempDir('claims'), 'claims.json');
    writeFileSync(claims, JSON.stringify({ scope: 'write' }));
    const scoped = filesOf(opaSignedBundle(rsa, 'RS256', ['--claims-file', claims]));
    await createBundleVerifier({ publicKeyPem: rsa.publicPem, scope: 'write' }).verify(scoped);
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem }).verify(scoped), /scope mismatch/);
    await assert.rejects(createBundleVerifier({ publicKeyPem: rsa.publicPem, scope: 'write' }).verify(rsaBundle), /scope mismatch/);
  });
});

describe('bundle signatures with other digest algorithms', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const content: BundleFiles = [
    { path: '/policy.wasm', bytes: Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]) },
    { path: '/data.json', bytes: Buffer.from(DATA_JSON) },
  ];

  async function signedWith(algorithm: string, files: BundleFiles = content): Promise<BundleFiles> {
    const claims = {
      files: files.map((file) => ({
        name: file.path.slice(1),
        hash: file.path === '/policy.wasm' ? createHash(nodeHashName(algorithm)).update(file.bytes).digest('hex') : digestBundleFile(file.path, file.bytes, algorithm).toString('hex'),
        algorithm,
      })),
    };
    const jwt = await new CompactSign(Buffer.from(JSON.stringify(claims))).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    return [...files, { path: '/.signatures.json', bytes: Buffer.from(JSON.stringify({ signatures: [jwt] })) }];
  }

  function nodeHashName(algorithm: string): string {
    return algorithm.toLowerCase().replace(/^sha-(\d+)$/, 'sha$1').replace(/^sha-512-(\d+)$/, 'sha512-$1');
  }

  for (const algorithm of ['SHA-1', 'SHA-224', 'SHA-384', 'SHA-512', 'SHA-512-256']) {
    test(`${algorithm} file digests verify`, async () => {
      await createBundleVerifier({ publicKeyPem }).verify(await signedWith(algorithm));
    });
  }

  test('MD5 and unknown digest algorithms are refused', async () => {
    for (const algorithm of ['MD5', 'SHA3-256']) {
      const jwt = await new CompactSign(Buffer.from(JSON.stringify({ files: [{ name: 'policy.wasm', hash: 'ab', algorithm }] })))
        .setProtectedHeader({ alg: 'ES256' })
        .sign(privateKey);
      const files = [content[0]!, { path: '/.signatures.json', bytes: Buffer.from(JSON.stringify({ signatures: [jwt] })) }];
      await assert.rejects(createBundleVerifier({ publicKeyPem }).verify(files), new RegExp(`/policy\\.wasm: unsupported hashing algorithm "${algorithm}"`));
    }
  });

  test('a file listed without an algorithm is refused, as OPA refuses it', async () => {
    const jwt = await new CompactSign(Buffer.from(JSON.stringify({ files: [{ name: 'policy.wasm', hash: createHash('sha256').update(content[0]!.bytes).digest('hex') }] })))
      .setProtectedHeader({ alg: 'ES256' })
      .sign(privateKey);
    const files = [content[0]!, { path: '/.signatures.json', bytes: Buffer.from(JSON.stringify({ signatures: [jwt] })) }];
    await assert.rejects(createBundleVerifier({ publicKeyPem }).verify(files), /\/policy\.wasm: no hashing algorithm/);
  });

  test('.signatures.json must hold exactly one JWT', async () => {
    const signed = await signedWith('SHA-256');
    const jwt = (JSON.parse(signed.at(-1)!.bytes.toString()) as { signatures: string[] }).signatures[0]!;
    for (const [signatures, reason] of [[[], /missing JWT/], [[jwt, jwt], /multiple JWTs/]] as const) {
      const files = replaced(signed, '/.signatures.json', Buffer.from(JSON.stringify({ signatures })));
      await assert.rejects(createBundleVerifier({ publicKeyPem }).verify(files), reason);
    }
  });
});

/** The digests opa put in a bundle's signature, by file name. */
function signedDigests(files: BundleFiles): Map<string, string> {
  const token = (JSON.parse(files.find((file) => file.path === '/.signatures.json')!.bytes.toString()) as { signatures: string[] }).signatures[0]!;
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { files: { name: string; hash: string }[] };
  return new Map(claims.files.map((file) => [file.name, file.hash]));
}
