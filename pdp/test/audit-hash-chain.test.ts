import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalJson } from '../src/audit/trail/canonical-json.ts';
import { HashChain, newProducerId, recordHash } from '../src/audit/trail/hash-chain.ts';
import { toOcsfRecord } from '../src/audit/ocsf/ocsf-record.ts';
import { PRODUCT, approvalEvent, decisionEvent, sessionStatementEvent, sqlAction } from './audit-fixtures.ts';

describe('hash chain', () => {
  test('links each stream from seq 0 with prev_hash of the record before, without touching the input record', () => {
    const chain = new HashChain('pdp-test-1');
    const input = toOcsfRecord(decisionEvent(), PRODUCT);
    const first = chain.link('decisions', input);
    const second = chain.link('decisions', toOcsfRecord(decisionEvent({ effect: 'deny' }), PRODUCT));
    const session = chain.link('sessions', toOcsfRecord(sessionStatementEvent('SELECT 1'), PRODUCT));
    const third = chain.link('decisions', toOcsfRecord(decisionEvent(), PRODUCT));
    const approval = chain.link('approvals', toOcsfRecord(approvalEvent('approval.requested'), PRODUCT));

    assert.equal(input.unmapped.portcullis.chain, undefined);
    assert.deepEqual(first.unmapped.portcullis.chain, { producer_id: 'pdp-test-1', stream: 'decisions', seq: 0, prev_hash: null, hash: first.unmapped.portcullis.chain.hash });
    assert.equal(second.unmapped.portcullis.chain.seq, 1);
    assert.equal(second.unmapped.portcullis.chain.prev_hash, first.unmapped.portcullis.chain.hash);
    assert.equal(third.unmapped.portcullis.chain.seq, 2);
    assert.equal(third.unmapped.portcullis.chain.prev_hash, second.unmapped.portcullis.chain.hash);
    assert.deepEqual([session.unmapped.portcullis.chain.seq, session.unmapped.portcullis.chain.prev_hash], [0, null]);
    assert.deepEqual([approval.unmapped.portcullis.chain.seq, approval.unmapped.portcullis.chain.stream], [0, 'approvals']);
    for (const record of [first, second, third, session, approval]) {
      assert.match(record.unmapped.portcullis.chain.hash, /^sha256:[0-9a-f]{64}$/);
      assert.equal(recordHash(record), record.unmapped.portcullis.chain.hash);
    }
    assert.deepEqual(chain.head('decisions'), { nextSeq: 3, lastHash: third.unmapped.portcullis.chain.hash });
    assert.throws(() => chain.link('decisions', first), /already linked/);
  });

  test('the hash is sha256 of the canonical JSON without chain.hash, and survives a JSON round trip', () => {
    const record = new HashChain('pdp-test-2').link('decisions', toOcsfRecord(decisionEvent(), PRODUCT));
    const copy = JSON.parse(JSON.stringify(record)) as Record<string, any>;
    delete copy.unmapped.portcullis.chain.hash;
    const expected = `sha256:${createHash('sha256').update(canonicalJson(copy)).digest('hex')}`;
    assert.equal(record.unmapped.portcullis.chain.hash, expected);
    // Written with keys in another order and with whitespace, it still recomputes.
    const reversed = (value: unknown): unknown => Array.isArray(value)
      ? value.map(reversed)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(Object.entries(value).reverse().map(([key, member]) => [key, reversed(member)]))
        : value;
    const text = JSON.stringify(reversed(record), null, 4);
    assert.notEqual(text.indexOf('"unmapped"'), JSON.stringify(record).indexOf('"unmapped"'));
    assert.equal(recordHash(JSON.parse(text)), expected);
  });

  test('the line of a linked record is its canonical JSON, hash included, whatever the content says about hashes', () => {
    const chain = new HashChain('pdp-test-line');
    // Content that looks like a chain link and a hash member, in names and in values.
    const tricky = toOcsfRecord(decisionEvent({ action: sqlAction(`SELECT '"hash":"sha256:00","chain":{}' AS hash`, 'select') }), PRODUCT);
    for (const input of [toOcsfRecord(decisionEvent(), PRODUCT), tricky, toOcsfRecord(sessionStatementEvent('SELECT 1'), PRODUCT)]) {
      const stream = input.metadata.event_code.startsWith('session') ? 'sessions' : 'decisions';
      const { record, line } = chain.linkLine(stream, input);
      assert.equal(line, canonicalJson(record));
      const parsed = JSON.parse(line) as { unmapped: { portcullis: { chain: { hash: string } } } };
      assert.deepEqual(parsed, JSON.parse(JSON.stringify(record)));
      assert.equal(recordHash(parsed), parsed.unmapped.portcullis.chain.hash);
      assert.equal(input.unmapped.portcullis.chain, undefined);
    }
    assert.deepEqual(chain.head('decisions').nextSeq, 2);
    assert.throws(() => chain.linkLine('decisions', chain.link('decisions', toOcsfRecord(decisionEvent(), PRODUCT))), /already linked/);
  });

  test('changing anything but chain.hash changes the hash: content, seq, prev_hash, producer', () => {
    const record = new HashChain('pdp-test-3').link('decisions', toOcsfRecord(decisionEvent(), PRODUCT));
    const hash = record.unmapped.portcullis.chain.hash;
    const mutate = (change: (copy: any) => void): string => {
      const copy = JSON.parse(JSON.stringify(record));
      change(copy);
      return recordHash(copy);
    };
    assert.equal(mutate((copy) => { copy.unmapped.portcullis.chain.hash = 'sha256:other'; }), hash);
    assert.notEqual(mutate((copy) => { copy.unmapped.portcullis.effect = 'allow '; }), hash);
    assert.notEqual(mutate((copy) => { copy.time += 1; }), hash);
    assert.notEqual(mutate((copy) => { copy.unmapped.portcullis.chain.seq = 1; }), hash);
    assert.notEqual(mutate((copy) => { copy.unmapped.portcullis.chain.prev_hash = hash; }), hash);
    assert.notEqual(mutate((copy) => { copy.unmapped.portcullis.chain.producer_id = 'pdp-other'; }), hash);
    assert.notEqual(mutate((copy) => { copy.metadata.extra = undefined; copy.metadata.extra2 = null; }), hash);
  });

  test('producer ids are pdp-<host label>-<uuid>, fresh per call, with the host label made safe', () => {
    const one = newProducerId('Web-01.prod.example');
    const two = newProducerId('Web-01.prod.example');
    assert.match(one, /^pdp-web-01\.prod\.example-[0-9a-f-]{36}$/);
    assert.notEqual(one, two);
    assert.match(newProducerId('  weird host/name!  '), /^pdp-weird-host-name-[0-9a-f-]{36}$/);
    assert.match(newProducerId(''), /^pdp-host-/);
    assert.throws(() => new HashChain(''), TypeError);
  });
});
