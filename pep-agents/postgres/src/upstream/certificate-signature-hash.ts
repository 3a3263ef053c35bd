// The signature algorithms whose hash tls-server-end-point (RFC 5929 §4.1) is defined for, by
// the DER bytes of their OID. MD5 and SHA-1 are replaced by SHA-256, as the RFC says.
const HASH_BY_SIGNATURE_OID: ReadonlyMap<string, string> = new Map([
  ['2a864886f70d010104', 'sha256'], // md5WithRSAEncryption
  ['2a864886f70d010105', 'sha256'], // sha1WithRSAEncryption
  ['2a864886f70d01010e', 'sha224'], // sha224WithRSAEncryption
  ['2a864886f70d01010b', 'sha256'], // sha256WithRSAEncryption
  ['2a864886f70d01010c', 'sha384'], // sha384WithRSAEncryption
  ['2a864886f70d01010d', 'sha512'], // sha512WithRSAEncryption
  ['2a8648ce3d0401', 'sha256'], // ecdsa-with-SHA1
  ['2a8648ce3d040301', 'sha224'], // ecdsa-with-SHA224
  ['2a8648ce3d040302', 'sha256'], // ecdsa-with-SHA256
  ['2a8648ce3d040303', 'sha384'], // ecdsa-with-SHA384
  ['2a8648ce3d040304', 'sha512'], // ecdsa-with-SHA512
]);

const SEQUENCE = 0x30;
const OBJECT_IDENTIFIER = 0x06;

/**
 * The hash of a DER certificate's signature algorithm, or undefined when it has none the
 * binding is defined for (Ed25519, RSA-PSS …) or the bytes are not a certificate. Node 20 does
 * not expose the algorithm, hence this small walk:
 * Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, … }, … }
 */
export function certificateSignatureHash(der: Buffer): string | undefined {
  const certificate = readHeader(der, 0, SEQUENCE);
  if (!certificate) return undefined;
  const tbs = readHeader(der, certificate.contentStart, SEQUENCE);
  if (!tbs) return undefined;
  const algorithm = readHeader(der, tbs.contentStart + tbs.length, SEQUENCE);
  if (!algorithm) return undefined;
  const oid = readHeader(der, algorithm.contentStart, OBJECT_IDENTIFIER);
  if (!oid) return undefined;
  return HASH_BY_SIGNATURE_OID.get(der.subarray(oid.contentStart, oid.contentStart + oid.length).toString('hex'));
}

/** A DER tag and length at `offset`, when the tag is `tag` and the content fits in `der`. */
function readHeader(der: Buffer, offset: number, tag: number): { contentStart: number; length: number } | undefined {
  if (der[offset] !== tag) return undefined;
  const first = der[offset + 1];
  if (first === undefined) return undefined;
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const lengthBytes = first & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4 || contentStart + lengthBytes > der.length) return undefined;
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += lengthBytes;
  }
  if (contentStart + length > der.length) return undefined;
  return { contentStart, length };
}
