import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { saslPrep } from './sasl-prep.ts';

const pbkdf2Async = promisify(pbkdf2);

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
export const SCRAM_SHA_256_PLUS = 'SCRAM-SHA-256-PLUS';
// PostgreSQL's default is 4096; a server asking for far more would make each log-in a CPU burn.
const MAX_ITERATIONS = 1_000_000;

/**
 * The GS2 channel-binding flag (RFC 5802 §6). 'n': no binding is possible (no TLS). 'y': the
 * client could bind but the server offered no -PLUS mechanism, so a server that can bind knows
 * the offer was stripped on the way. 'p': bound to the TLS server certificate's hash
 * (tls-server-end-point, the type PostgreSQL offers).
 */
export type ScramChannelBinding = { readonly flag: 'n' } | { readonly flag: 'y' } | { readonly flag: 'p'; readonly data: Buffer };

const NO_CHANNEL_BINDING: ScramChannelBinding = { flag: 'n' };

/** Why the server's side of the exchange was not accepted; the text never holds the password. */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

/** Derives the salted password; a cache can sit behind it so reconnects skip PBKDF2. */
export type SaltedPasswordDeriver = (password: string, salt: Buffer, iterations: number) => Promise<Buffer>;

export const deriveSaltedPassword: SaltedPasswordDeriver = (password, salt, iterations) =>
  pbkdf2Async(saslPrep(password), salt, iterations, 32, 'sha256');

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL runs it: the user name in
 * the exchange is empty (the server takes the start-up packet's); with TLS, optionally bound to
 * the channel (SCRAM-SHA-256-PLUS), so a man in the middle cannot relay the exchange. It proves
 * the password without sending it, and checks the server's signature, so a server that does not
 * know the password's verifier cannot pass for the real one.
 */
export class ScramSha256Client {
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  // GS2 header: the flag, no authorization identity.
  private readonly gs2Header: string;
  private expectedServerSignature: Buffer | undefined;
  private serverVerified = false;

  constructor(
    private readonly password: string,
    private readonly derive: SaltedPasswordDeriver = deriveSaltedPassword,
    nonce: string = randomBytes(18).toString('base64'),
    /** PostgreSQL ignores it (the start-up packet names the user) and libpq sends it empty. */
    user = '',
    private readonly channelBinding: ScramChannelBinding = NO_CHANNEL_BINDING,
  ) {
    this.gs2Header = channelBinding.flag === 'p' ? 'p=tls-server-end-point,,' : `${channelBinding.flag},,`;
    this.clientNonce = nonce;
    this.clientFirstBare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.clientNonce}`;
  }

  clientFirstMessage(): Buffer {
    return Buffer.from(this.gs2Header + this.clientFirstBare, 'utf8');
  }

  /** Answers the server-first-message with the proof. */
  async clientFinalMessage(serverFirst: Buffer): Promise<Buffer> {
    const serverFirstText = serverFirst.toString('utf8');
    const attributes = readAttributes(serverFirstText);
    const nonce = attributes.get('r');
    const saltText = attributes.get('s');
    const iterationsText = attributes.get('i');
    if (attributes.has('m')) throw new ScramError('the server asked for a SCRAM extension this client does not support');
    if (!nonce || !saltText || !iterationsText) throw new ScramError('the server-first-message lacks the nonce, salt or iteration count');
    if (!nonce.startsWith(this.clientNonce) || nonce.length <= this.clientNonce.length) {
      throw new ScramError('the server nonce does not extend the client nonce');
    }
    const iterations = Number(iterationsText);
    if (!/^\d+$/.test(iterationsText) || iterations < 1 || iterations > MAX_ITERATIONS) {
      throw new ScramError(`the iteration count ${iterationsText.slice(0, 16)} is out of range`);
    }
    const salt = Buffer.from(saltText, 'base64');
    if (salt.length === 0) throw new ScramError('the salt is empty');

    const saltedPassword = await this.derive(this.password, salt, iterations);
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const bindingData = this.channelBinding.flag === 'p' ? this.channelBinding.data : Buffer.alloc(0);
    const channel = Buffer.concat([Buffer.from(this.gs2Header, 'utf8'), bindingData]).toString('base64');
    const clientFinalWithoutProof = `c=${channel},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirstText},${clientFinalWithoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
    return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server-final-message's signature; throws unless the server knew the verifier. */
  verifyServerFinal(serverFinal: Buffer): void {
    if (!this.expectedServerSignature) throw new ScramError('server-final-message before the client-final-message');
    const attributes = readAttributes(serverFinal.toString('utf8'));
    if (attributes.has('e')) throw new ScramError(`the server refused the proof (${attributes.get('e')!.slice(0, 64)})`);
    const signature = Buffer.from(attributes.get('v') ?? '', 'base64');
    if (signature.length !== this.expectedServerSignature.length || !timingSafeEqual(signature, this.expectedServerSignature)) {
      throw new ScramError('the server signature does not match: this server does not know the password');
    }
    this.serverVerified = true;
  }

  /** Whether the exchange is bound to the TLS channel (SCRAM-SHA-256-PLUS). */
  get channelBound(): boolean {
    return this.channelBinding.flag === 'p';
  }

  /** Whether the server proved it knows the password's verifier. */
  get verified(): boolean {
    return this.serverVerified;
  }
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function readAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const separator = part.indexOf('=');
    if (separator !== 1) throw new ScramError('malformed SCRAM message');
    attributes.set(part[0]!, part.slice(2));
  }
  return attributes;
}
