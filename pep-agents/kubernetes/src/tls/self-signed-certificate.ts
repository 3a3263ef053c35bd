import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { bitString, booleanTrue, explicit, objectIdentifier, octetString, sequence, set, time, tlv, unsignedInteger, utf8String } from './der.ts';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const EXTENDED_KEY_USAGE = '2.5.29.37';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const SUBJECT_ALT_NAME = '2.5.29.17';
const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/**
 * A self-signed TLS server certificate (EC P-256, ECDSA-SHA256) for `names` (host names and IP
 * addresses), made with Node's crypto alone. Clients trust it by pinning it (a kubeconfig's
 * certificate-authority), like an SSH host key.
 */
export function createSelfSignedCertificate(commonName: string, names: readonly string[], validDays: number, now = new Date()): { readonly cert: string; readonly key: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = sequence(set(sequence(objectIdentifier(COMMON_NAME), utf8String(commonName))));
  const algorithm = sequence(objectIdentifier(ECDSA_WITH_SHA256));
  const notBefore = new Date(now.getTime() - 5 * 60_000);
  const notAfter = new Date(now.getTime() + validDays * 86_400_000);
  // The key identifier as RFC 5280 §4.2.1.2 (1) has it: SHA-1 of the public key's bits.
  const keyBits = spki.subarray(spki.length - 65);
  const extensions = [
    extension(BASIC_CONSTRAINTS, true, sequence()),
    extension(KEY_USAGE, true, bitString(Buffer.from([0x80]))),
    extension(EXTENDED_KEY_USAGE, false, sequence(objectIdentifier(SERVER_AUTH))),
    extension(SUBJECT_ALT_NAME, false, sequence(...names.map(generalName))),
    extension(SUBJECT_KEY_IDENTIFIER, false, octetString(createHash('sha1').update(keyBits).digest())),
  ];
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = sequence(
    explicit(0, tlv(0x02, Buffer.from([2]))),
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = sequence(tbs, algorithm, bitString(signature));
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

/** dNSName [2] or iPAddress [7] (RFC 5280 §4.2.1.6). */
function generalName(name: string): Buffer {
  const version = isIP(name);
  if (version === 4) return tlv(0x87, Buffer.from(name.split('.').map(Number)));
  if (version === 6) return tlv(0x87, ipv6Bytes(name));
  return tlv(0x82, Buffer.from(name, 'ascii'));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const start = groups(head);
  const end = tail === undefined ? [] : groups(tail);
  const all = [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
  return bytes;
}
