import { createHash, createPublicKey, type Hash, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';

/** What a verified signature proves: which key signed (its id when the token names one, and its fingerprint). */
export interface BundleSignature {
  readonly keyId: string | null;
  /** `sha256:<hex>` of the verification key's SubjectPublicKeyInfo (DER): the key itself, whatever it is called. */
  readonly keySha256: string;
  readonly algorithm: string;
}

/** Checks a bundle's `/.signatures.json` against its files; throws when anything is off. */
export interface BundleVerifier {
  verify(files: readonly { path: string; bytes: Buffer }[]): Promise<BundleSignature>;
}

export interface BundleVerifierOptions {
  /** PEM: SPKI public key, PKCS#1 RSA public key or X.509 certificate (what OPA accepts). */
  publicKeyPem: string;
  /** JWS algorithms accepted. Default: the RSA and ECDSA ones OPA supports (never HS* or none). */
  algorithms?: readonly string[];
  /**
   * The token must name this key, in its `kid` header or (deprecated) `keyid` claim, as OPA
   * requires when it picks a key from its `keys` map by the token. Unset: any key id.
   */
  keyId?: string;
  /** The `scope` claim must equal this; unset means the token must carry no scope (as OPA). */
  scope?: string;
}

const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;
/** Where a signed bundle keeps its signature (OPA's layout). */
export const SIGNATURES_PATH = '/.signatures.json';

/** OPA's names for file digest algorithms → node:crypto names. MD5 is left out on purpose. */
const HASH_ALGORITHMS: Readonly<Record<string, string>> = {
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

interface SignedFile {
  readonly name: string;
  readonly hash: string;
  readonly algorithm: string;
}

/**
 * Verifies bundles signed as `opa build --signing-key` / `opa sign` sign them: one JWT in
 * `/.signatures.json` whose claims list every file of the bundle with its digest.
 */
export function createBundleVerifier(options: BundleVerifierOptions): BundleVerifier {
  // Parsed once so a bad key fails at start-up, not on the first bundle.
  const key = parsePublicKey(options.publicKeyPem);
  const keySha256 = `sha256:${createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex')}`;
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
  if (algorithms.length === 0) throw new TypeError('bundle verifier: algorithms must not be empty');
  for (const alg of algorithms) {
    if (alg === 'none' || alg.startsWith('HS')) throw new TypeError(`bundle verifier: algorithm ${alg} cannot be used with a public key`);
  }
  return {
    async verify(files) {
      const signatures = files.filter((file) => file.path === SIGNATURES_PATH);
      if (signatures.length === 0) throw new Error('bundle is not signed (no /.signatures.json)');
      if (signatures.length > 1) throw new Error('bundle holds /.signatures.json more than once');
      const token = readToken(signatures[0]!.bytes);
      const signed = await verifyToken(token, key, algorithms, options);
      checkFiles(files, signed.files);
      return { keyId: signed.keyId, keySha256, algorithm: signed.algorithm };
    },
  };
}

function parsePublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new TypeError(`bundle verifier: publicKeyPem is not a usable public key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss' && key.asymmetricKeyType !== 'ec') {
    throw new TypeError(`bundle verifier: unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (RSA or EC expected)`);
  }
  return key;
}

function readToken(bytes: Buffer): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new Error(`/.signatures.json is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new Error('/.signatures.json must hold a JSON object');
  // "_default" is the id OPA gives its built-in verifier; any other plugin is custom code.
  if (parsed.plugin !== undefined && parsed.plugin !== '' && parsed.plugin !== '_default') {
    throw new Error(`/.signatures.json names signing plugin ${JSON.stringify(parsed.plugin)}, which is not supported`);
  }
  const list = parsed.signatures;
  if (list === undefined || (Array.isArray(list) && list.length === 0)) throw new Error('/.signatures.json: missing JWT (expected exactly one)');
  if (!Array.isArray(list) || !list.every((entry) => typeof entry === 'string')) throw new Error('/.signatures.json: signatures must be an array of strings');
  if (list.length > 1) throw new Error('/.signatures.json: multiple JWTs not supported (expected exactly one)');
  return list[0] as string;
}

async function verifyToken(
  token: string,
  key: KeyObject,
  algorithms: string[],
  options: BundleVerifierOptions,
): Promise<{ files: Map<string, SignedFile>; keyId: string | null; algorithm: string }> {
  let payload: Uint8Array;
  let kid: unknown;
  let alg: string;
  try {
    // OPA checks only the signature, not exp/nbf, so a compact JWS check is the faithful one.
    const result = await compactVerify(token, key, { algorithms });
    payload = result.payload;
    kid = result.protectedHeader.kid;
    alg = result.protectedHeader.alg;
  } catch (error) {
    throw new Error(`/.signatures.json: signature verification failed: ${(error as Error).message}`);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new Error('/.signatures.json: JWT payload is not JSON');
  }
  if (!isRecord(claims)) throw new Error('/.signatures.json: JWT payload must be an object');

  const named = typeof kid === 'string' && kid !== '' ? kid : typeof claims.keyid === 'string' ? claims.keyid : '';
  if (options.keyId !== undefined) {
    if (named === '') throw new Error(`/.signatures.json: token names no key id (expected ${JSON.stringify(options.keyId)})`);
    if (named !== options.keyId) throw new Error(`/.signatures.json: token names key id ${JSON.stringify(named)}, expected ${JSON.stringify(options.keyId)}`);
  }
  const scope = typeof claims.scope === 'string' ? claims.scope : '';
  if (scope !== (options.scope ?? '')) throw new Error('/.signatures.json: scope mismatch');

  const files = new Map<string, SignedFile>();
  if (claims.files !== undefined && !Array.isArray(claims.files)) throw new Error('/.signatures.json: claim files must be an array');
  for (const entry of (claims.files as unknown[] | undefined) ?? []) {
    if (!isRecord(entry) || typeof entry.name !== 'string') throw new Error('/.signatures.json: every entry of files needs a name');
    const hash = typeof entry.hash === 'string' ? entry.hash : '';
    const algorithm = typeof entry.algorithm === 'string' ? entry.algorithm : '';
    files.set(entry.name, { name: entry.name, hash, algorithm }); // a repeated name: the last wins, as in OPA
  }
  return { files, keyId: named === '' ? null : named, algorithm: alg };
}

function checkFiles(files: readonly { path: string; bytes: Buffer }[], signed: Map<string, SignedFile>): void {
  for (const file of files) {
    if (file.path === SIGNATURES_PATH) continue;
    // Signatures name files relative to the bundle root, without the leading slash.
    const name = file.path.replace(/^\/+/, '');
    const entry = signed.get(name);
    if (!entry) throw new Error(`${file.path}: file not included in bundle signature`);
    // Deleting makes a second copy of the same path fail: each signed file counts once.
    signed.delete(name);
    if (entry.algorithm === '') throw new Error(`${file.path}: no hashing algorithm given in bundle signature`);
    const want = decodeHex(entry.hash, file.path);
    const got = digestBundleFile(file.path, file.bytes, entry.algorithm);
    if (!want.equals(got)) {
      throw new Error(`${file.path}: digest mismatch (${entry.algorithm} want ${want.toString('hex')}, got ${got.toString('hex')})`);
    }
  }
  if (signed.size > 0) {
    const missing = [...signed.keys()].map((name) => `/${name}`).join(', ');
    throw new Error(`file(s) ${missing} listed in bundle signature but not found in the bundle`);
  }
}

function decodeHex(text: string, path: string): Buffer {
  if (text === '' || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) throw new Error(`${path}: bundle signature holds a malformed digest`);
  return Buffer.from(text, 'hex');
}

/**
 * A bundle file's digest as OPA computes it. Structured files (`data.json`, `data.yaml`,
 * `.manifest`) are hashed over a canonical encoding of their parsed JSON, so signatures do not
 * depend on whitespace or key order; every other file over its raw bytes.
 */
export function digestBundleFile(path: string, bytes: Buffer, algorithm: string): Buffer {
  const nodeName = HASH_ALGORITHMS[algorithm];
  if (!nodeName) throw new Error(`${path}: unsupported hashing algorithm ${JSON.stringify(algorithm)} in bundle signature`);
  const hash = createHash(nodeName);
  if (isStructuredDoc(path)) {
    writeCanonicalJson(hash, bytes, path);
  } else {
    hash.update(bytes);
  }
  return hash.digest();
}

function isStructuredDoc(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'data.json' || base === 'data.yaml' || base === '.manifest' || base === 'signatures.json';
}

// ---------------------------------------------------------------------------------------------
// OPA's canonical JSON, byte for byte as its Go code produces it: the document is decoded with
// json.Number (so numbers keep their literal text: 1e3 stays 1e3, 1.50 stays 1.50), object keys
// sorted by their UTF-8 bytes (a repeated key: the last wins), no whitespace, strings re-encoded
// by Go's encoder without HTML escaping. Strings are kept as UTF-8 bytes throughout so invalid
// sequences and key order follow Go, not JavaScript's UTF-16.

type JsonValue =
  | { readonly kind: 'literal'; readonly text: Buffer } // numbers, true, false, null: verbatim
  | { readonly kind: 'string'; readonly utf8: Buffer }
  | { readonly kind: 'array'; readonly items: JsonValue[] }
  | { readonly kind: 'object'; readonly entries: Map<string, { key: Buffer; value: JsonValue }> };

const MAX_DEPTH = 10_000; // Go's decoder limit; also keeps our recursion bounded

function writeCanonicalJson(hash: Hash, bytes: Buffer, path: string): void {
  // Go's util.Unmarshal strips a UTF-8 byte order mark first.
  const input = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf && bytes.length > 2 ? bytes.subarray(3) : bytes;
  let value: JsonValue;
  try {
    value = new StrictJsonParser(input).parseDocument();
  } catch (error) {
    const yamlHint = path.endsWith('.yaml') ? ' (YAML that is not also JSON is not supported in signed bundles)' : '';
    throw new Error(`${path}: not valid JSON${yamlHint}: ${(error as Error).message}`);
  }
  const out: Buffer[] = [];
  encodeCanonical(value, out);
  for (const chunk of out) hash.update(chunk);
}

function encodeCanonical(value: JsonValue, out: Buffer[]): void {
  switch (value.kind) {
    case 'literal':
      out.push(value.text);
      return;
    case 'string':
      out.push(encodeGoString(value.utf8));
      return;
    case 'array':
      out.push(PUNCT.open);
      value.items.forEach((item, index) => {
        if (index > 0) out.push(PUNCT.comma);
        encodeCanonical(item, out);
      });
      out.push(PUNCT.close);
      return;
    case 'object': {
      const entries = [...value.entries.values()].sort((a, b) => Buffer.compare(a.key, b.key));
      out.push(PUNCT.openObject);
      entries.forEach((entry, index) => {
        if (index > 0) out.push(PUNCT.comma);
        out.push(encodeGoString(entry.key), PUNCT.colon);
        encodeCanonical(entry.value, out);
      });
      out.push(PUNCT.closeObject);
      return;
    }
  }
}

const PUNCT = {
  open: Buffer.from('['),
  close: Buffer.from(']'),
  openObject: Buffer.from('{'),
  closeObject: Buffer.from('}'),
  comma: Buffer.from(','),
  colon: Buffer.from(':'),
};

const HEX = '0123456789abcdef';

/** encoding/json's string encoder with SetEscapeHTML(false), Go ≥ 1.22 (\b and \f short). */
function encodeGoString(utf8: Buffer): Buffer {
  const parts: number[] = [0x22];
  for (let i = 0; i < utf8.length; i++) {
    const b = utf8[i]!;
    if (b === 0x22 || b === 0x5c) parts.push(0x5c, b);
    else if (b >= 0x20) {
      // U+2028 and U+2029 are escaped because they end lines in JavaScript.
      if (b === 0xe2 && utf8[i + 1] === 0x80 && (utf8[i + 2] === 0xa8 || utf8[i + 2] === 0xa9)) {
        parts.push(...Buffer.from(utf8[i + 2] === 0xa8 ? '\\u2028' : '\\u2029'));
        i += 2;
      } else {
        parts.push(b);
      }
    } else if (b === 0x08) parts.push(0x5c, 0x62);
    else if (b === 0x0c) parts.push(0x5c, 0x66);
    else if (b === 0x0a) parts.push(0x5c, 0x6e);
    else if (b === 0x0d) parts.push(0x5c, 0x72);
    else if (b === 0x09) parts.push(0x5c, 0x74);
    else parts.push(0x5c, 0x75, 0x30, 0x30, HEX.charCodeAt(b >> 4), HEX.charCodeAt(b & 0xf));
  }
  parts.push(0x22);
  return Buffer.from(parts);
}

/** RFC 8259 JSON as Go's json.Valid accepts it, decoded as Go's decoder does. */
class StrictJsonParser {
  private pos = 0;

  constructor(private readonly input: Buffer) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.input.length) this.fail('unexpected data after the top-level value');
    return value;
  }

  private parseValue(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const b = this.input[this.pos];
    if (b === 0x7b) return this.parseObject(depth);
    if (b === 0x5b) return this.parseArray(depth);
    if (b === 0x22) return { kind: 'string', utf8: this.parseString() };
    if (b === 0x2d || (b !== undefined && b >= 0x30 && b <= 0x39)) return this.parseNumber();
    for (const word of ['true', 'false', 'null']) {
      if (this.input.toString('latin1', this.pos, this.pos + word.length) === word) {
        this.pos += word.length;
        return { kind: 'literal', text: Buffer.from(word) };
      }
    }
    return this.fail('value expected');
  }

  private parseObject(depth: number): JsonValue {
    this.pos++; // {
    const entries = new Map<string, { key: Buffer; value: JsonValue }>();
    this.skipWhitespace();
    if (this.input[this.pos] === 0x7d) {
      this.pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.input[this.pos] !== 0x22) this.fail('object key expected');
      const key = this.parseString();
      this.skipWhitespace();
      this.expect(0x3a, "':' expected");
      this.skipWhitespace();
      const value = this.parseValue(depth + 1);
      entries.set(key.toString('latin1'), { key, value }); // latin1: a lossless map key for the bytes
      this.skipWhitespace();
      const next = this.input[this.pos++];
      if (next === 0x7d) return { kind: 'object', entries };
      if (next !== 0x2c) this.fail("',' or '}' expected", -1);
    }
  }

  private parseArray(depth: number): JsonValue {
    this.pos++; // [
    const items: JsonValue[] = [];
    this.skipWhitespace();
    if (this.input[this.pos] === 0x5d) {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const next = this.input[this.pos++];
      if (next === 0x5d) return { kind: 'array', items };
      if (next !== 0x2c) this.fail("',' or ']' expected", -1);
    }
  }

  private parseNumber(): JsonValue {
    const start = this.pos;
    if (this.input[this.pos] === 0x2d) this.pos++;
    if (this.input[this.pos] === 0x30) this.pos++;
    else if (!this.digits()) this.fail('digit expected');
    if (this.input[this.pos] === 0x2e) {
      this.pos++;
      if (!this.digits()) this.fail('digit expected after decimal point');
    }
    if (this.input[this.pos] === 0x65 || this.input[this.pos] === 0x45) {
      this.pos++;
      if (this.input[this.pos] === 0x2b || this.input[this.pos] === 0x2d) this.pos++;
      if (!this.digits()) this.fail('digit expected in exponent');
    }
    return { kind: 'literal', text: Buffer.from(this.input.subarray(start, this.pos)) };
  }

  private digits(): boolean {
    const start = this.pos;
    while (this.pos < this.input.length && this.input[this.pos]! >= 0x30 && this.input[this.pos]! <= 0x39) this.pos++;
    return this.pos > start;
  }

  /** Decodes a string literal to UTF-8 bytes the way Go does, invalid input included. */
  private parseString(): Buffer {
    this.pos++; // opening quote
    const out: number[] = [];
    for (;;) {
      if (this.pos >= this.input.length) this.fail('unterminated string');
      const b = this.input[this.pos]!;
      if (b === 0x22) {
        this.pos++;
        return Buffer.from(out);
      }
      if (b < 0x20) this.fail('control character in string');
      if (b === 0x5c) {
        this.parseEscape(out);
        continue;
      }
      if (b < 0x80) {
        out.push(b);
        this.pos++;
        continue;
      }
      const size = validUtf8SequenceLength(this.input, this.pos);
      if (size === 0) {
        out.push(0xef, 0xbf, 0xbd); // Go replaces each invalid byte with U+FFFD
        this.pos++;
      } else {
        for (let i = 0; i < size; i++) out.push(this.input[this.pos + i]!);
        this.pos += size;
      }
    }
  }

  private parseEscape(out: number[]): void {
    const c = this.input[this.pos + 1];
    const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };
    if (c !== undefined && simple[c] !== undefined) {
      out.push(simple[c]);
      this.pos += 2;
      return;
    }
    if (c !== 0x75) this.fail('invalid escape');
    let code = this.readHex4(this.pos + 2);
    this.pos += 6;
    if (code >= 0xd800 && code < 0xe000) {
      // A surrogate only counts as half of a valid pair; otherwise it becomes U+FFFD and a
      // following escape is read on its own, as Go does.
      const low = this.input[this.pos] === 0x5c && this.input[this.pos + 1] === 0x75 ? this.tryHex4(this.pos + 2) : -1;
      if (code < 0xdc00 && low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        this.pos += 6;
      } else {
        code = 0xfffd;
      }
    }
    out.push(...Buffer.from(String.fromCodePoint(code), 'utf8'));
  }

  private readHex4(at: number): number {
    const value = this.tryHex4(at);
    if (value < 0) this.fail('invalid \\u escape');
    return value;
  }

  private tryHex4(at: number): number {
    const text = this.input.toString('latin1', at, at + 4);
    return /^[0-9a-fA-F]{4}$/.test(text) ? parseInt(text, 16) : -1;
  }

  private skipWhitespace(): void {
    for (;;) {
      const b = this.input[this.pos];
      if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return;
      this.pos++;
    }
  }

  private expect(byte: number, message: string): void {
    if (this.input[this.pos] !== byte) this.fail(message);
    this.pos++;
  }

  private fail(message: string, adjust = 0): never {
    throw new Error(`${message} at byte ${this.pos + adjust}`);
  }
}

/** Length of the valid UTF-8 sequence at `at` (Go's utf8.DecodeRune rules), 0 when invalid. */
function validUtf8SequenceLength(input: Buffer, at: number): number {
  const b0 = input[at]!;
  const cont = (i: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = input[at + i];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf; // no UTF-16 surrogates
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf; // nothing above U+10FFFF
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
