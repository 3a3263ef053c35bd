import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCursorFacts, type CursorFacts } from '../src/masking/cursor-facts.ts';
import { CursorMemory, type DeclaredCursor } from '../src/masking/cursor-memory.ts';

const declare = (name: string, hold = false): CursorFacts => ({ name, operation: 'declare', hold });
const close = (name: string | null): CursorFacts => ({ name, operation: 'close', hold: false });
const upperEmail = (hold = false): DeclaredCursor => ({
  facts: { outputs: [{ name: 'upper', star: false, derived_from: [{ table: 'users', column: 'email' }] }] },
  obligations: [{ table: 'users', column: 'email', strategy: 'partial' }],
  hold,
});

/** A DECLARE decided now and confirmed by the server later. */
function declared(memory: CursorMemory, name: string, cursor = upperEmail()): void {
  memory.completionOf(declare(name, cursor.hold), cursor)('DECLARE CURSOR');
}

describe('what a session remembers of its cursors', () => {
  it('remembers a DECLARE only once the server confirms it', () => {
    const memory = new CursorMemory();
    const cursor = upperEmail();
    const complete = memory.completionOf(declare('c'), cursor);
    assert.equal(memory.lookup('c'), undefined, 'decided is not yet declared: the server may refuse it (the name exists)');
    complete('DECLARE CURSOR');
    assert.equal(memory.lookup('c'), cursor);
  });

  it('a new DECLARE of the name replaces the old; CLOSE forgets it', () => {
    const memory = new CursorMemory();
    declared(memory, 'c');
    const second = upperEmail();
    declared(memory, 'c', second);
    assert.equal(memory.lookup('c'), second);
    memory.completionOf(close('c'), undefined)('CLOSE CURSOR');
    assert.equal(memory.lookup('c'), undefined);
  });

  it('CLOSE ALL, DISCARD ALL and a DECLARE or CLOSE it cannot place forget every cursor', () => {
    for (const [cursor, tag] of [
      [close(null), 'CLOSE CURSOR ALL'],
      [undefined, 'DISCARD ALL'],
      [undefined, 'DECLARE CURSOR'], // one statement of several, or an answer without enrichment
      [undefined, 'CLOSE CURSOR'],
    ] as const) {
      const memory = new CursorMemory();
      declared(memory, 'a');
      declared(memory, 'b');
      memory.completionOf(cursor, undefined)(tag);
      assert.equal(memory.size, 0, tag);
    }
  });

  it('other tags change nothing', () => {
    const memory = new CursorMemory();
    declared(memory, 'c');
    for (const tag of ['FETCH 100', 'MOVE 3', 'SELECT 1', 'COMMIT', 'DISCARD PLANS']) memory.completionOf(undefined, undefined)(tag);
    assert.ok(memory.lookup('c'));
  });

  it('a named Bind forgets the name, and voids a DECLARE still on its way', () => {
    const memory = new CursorMemory();
    declared(memory, 'c');
    memory.portalBound('c');
    assert.equal(memory.lookup('c'), undefined, 'FETCH c may now read the protocol portal');

    const inFlight = memory.completionOf(declare('d'), upperEmail());
    memory.portalBound('p');
    inFlight('DECLARE CURSOR');
    assert.equal(memory.lookup('d'), undefined, 'the Bind ran after the DECLARE and may have replaced it');

    memory.portalBound('');
    declared(memory, 'e');
    assert.ok(memory.lookup('e'), 'the unnamed portal cannot be named by FETCH');
  });

  it('at the end of a transaction only WITH HOLD cursors are kept', () => {
    const memory = new CursorMemory();
    declared(memory, 'plain');
    declared(memory, 'held', upperEmail(true));
    memory.transactionEnded();
    assert.equal(memory.lookup('plain'), undefined);
    assert.ok(memory.lookup('held'));
  });

  it('keeps a bounded number of cursors, forgetting the oldest', () => {
    const memory = new CursorMemory();
    for (let i = 0; i < 1100; i++) declared(memory, `c${i}`);
    assert.equal(memory.size, 1024);
    assert.equal(memory.lookup('c0'), undefined);
    assert.ok(memory.lookup('c1099'));
  });
});

describe('reading the enrichment\'s cursor facts', () => {
  it('takes well-formed facts and drops anything else', () => {
    assert.deepEqual(readCursorFacts({ cursor: { name: 'MyCur', operation: 'fetch', hold: false } }), { name: 'MyCur', operation: 'fetch', hold: false });
    assert.deepEqual(readCursorFacts({ cursor: { name: null, operation: 'close', hold: false } }), { name: null, operation: 'close', hold: false });
    for (const statement of [
      undefined,
      {},
      { cursor: null },
      { cursor: { name: 'c', operation: 'rewind' } },
      { cursor: { name: null, operation: 'fetch' } },
      { cursor: { name: '', operation: 'fetch' } },
      { cursor: { name: 7, operation: 'declare' } },
    ]) {
      assert.equal(readCursorFacts(statement), undefined, JSON.stringify(statement));
    }
  });
});
