import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScramSha256Client } from '../src/upstream/scram-sha-256-client.ts';
import { saslPrep } from '../src/upstream/sasl-prep.ts';

// The SCRAM-SHA-256 exchange of RFC 7677, section 3.
const NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('ScramSha256Client', () => {
  it('computes the proof of RFC 7677 and accepts its server signature', async () => {
    const client = new ScramSha256Client('pencil', undefined, NONCE, 'user');
    assert.equal(client.clientFirstMessage().toString(), `n,,n=user,r=${NONCE}`);
    assert.equal((await client.clientFinalMessage(Buffer.from(SERVER_FIRST))).toString(), CLIENT_FINAL);
    client.verifyServerFinal(Buffer.from(SERVER_FINAL));
    assert.equal(client.verified, true);
  });

  it('refuses a server signature made without the verifier', async () => {
    const client = new ScramSha256Client('pencil', undefined, NONCE, 'user');
    await client.clientFinalMessage(Buffer.from(SERVER_FIRST));
    assert.throws(() => client.verifyServerFinal(Buffer.from('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')), /does not know the password/);
    assert.equal(client.verified, false);
  });

  it('refuses a server nonce that does not extend its own, and absurd iteration counts', async () => {
    const client = new ScramSha256Client('pencil', undefined, NONCE);
    await assert.rejects(client.clientFinalMessage(Buffer.from('r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')), /nonce/);
    await assert.rejects(client.clientFinalMessage(Buffer.from(`r=${NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999999999`)), /out of range/);
  });

  it('never puts the password in its messages', async () => {
    const client = new ScramSha256Client('s3cret-pass', undefined, NONCE);
    const messages = [client.clientFirstMessage(), await client.clientFinalMessage(Buffer.from(SERVER_FIRST))].map(String).join();
    assert.doesNotMatch(messages, /s3cret/);
  });
});

describe('saslPrep', () => {
  it('maps non-ASCII spaces and normalises as PostgreSQL does, and keeps ASCII as it is', () => {
    assert.equal(saslPrep('pencil'), 'pencil');
    assert.equal(saslPrep('a\u00a0b'), 'a b');
    assert.equal(saslPrep('\u2168'), 'IX');
    assert.equal(saslPrep('a\u00adb'), 'ab');
    // A prohibited character: PostgreSQL falls back to the raw password.
    assert.equal(saslPrep('a\u0007\u00e9'), 'a\u0007\u00e9');
  });
});
