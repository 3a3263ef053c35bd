// tls-server-end-point channel binding data (RFC 5929): the hash named by the certificate's
// signature algorithm, SHA-256 in place of MD5 and SHA-1, none for algorithms without a hash.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateSignatureHash } from '@portcullis/pep-postgres/testing';
import { ScramSha256Client } from '@portcullis/pep-postgres/testing';
import { createTestCa, issueCertificate, selfSignedCertificate } from '../support/test-certificates.ts';

function der(certFile: string): Buffer {
  return new X509Certificate(readFileSync(certFile)).raw;
}

describe('channel binding to the upstream server certificate', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-binding-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the hash of the signature algorithm from the certificate', () => {
    const ca = createTestCa(dir, 'binding-ca');
    assert.equal(certificateSignatureHash(der(ca.certFile)), 'sha256', 'ecdsa-with-SHA256');
    assert.equal(certificateSignatureHash(der(issueCertificate(ca, dir, 'ec384', { digest: 'sha384' }).certFile)), 'sha384', 'ecdsa-with-SHA384');
    assert.equal(certificateSignatureHash(der(selfSignedCertificate(dir, 'rsa384', { keyType: 'rsa', digest: 'sha384' }).certFile)), 'sha384', 'sha384WithRSAEncryption');
    assert.equal(certificateSignatureHash(der(selfSignedCertificate(dir, 'rsa256', { keyType: 'rsa' }).certFile)), 'sha256', 'sha256WithRSAEncryption');
  });

  it('has no hash for Ed25519 certificates or bytes that are not a certificate', () => {
    assert.equal(certificateSignatureHash(der(selfSignedCertificate(dir, 'ed', { keyType: 'ed25519' }).certFile)), undefined);
    assert.equal(certificateSignatureHash(Buffer.from([0x30, 0x82, 0xff])), undefined);
    assert.equal(certificateSignatureHash(Buffer.alloc(0)), undefined);
  });

  it('puts the binding into the GS2 header and the client-final c= attribute', async () => {
    const data = Buffer.from('0123456789abcdef0123456789abcdef');
    const bound = new ScramSha256Client('pw', undefined, 'nonce', '', { flag: 'p', data });
    assert.equal(bound.clientFirstMessage().toString(), 'p=tls-server-end-point,,n=,r=nonce');
    const final = (await bound.clientFinalMessage(Buffer.from('r=nonceSERVER,s=c2FsdA==,i=4096'))).toString();
    assert.equal(final.split(',')[0], `c=${Buffer.concat([Buffer.from('p=tls-server-end-point,,'), data]).toString('base64')}`);
    assert.ok(bound.channelBound);

    const couldBind = new ScramSha256Client('pw', undefined, 'nonce', '', { flag: 'y' });
    assert.equal(couldBind.clientFirstMessage().toString(), 'y,,n=,r=nonce');
    assert.match((await couldBind.clientFinalMessage(Buffer.from('r=nonceSERVER,s=c2FsdA==,i=4096'))).toString(), /^c=eSws,/);
    assert.equal(couldBind.channelBound, false);
  });
});
