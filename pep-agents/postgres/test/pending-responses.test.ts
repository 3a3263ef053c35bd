import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PgError, SQLSTATE } from '../src/errors/pg-error.ts';
import { NameRegistry } from '../src/session/name-registry.ts';
import { PendingResponses } from '../src/session/pending-responses.ts';

describe('PendingResponses', () => {
  it('skips every answer up to the next Sync after an error, settling what was skipped as not done', () => {
    const pending = new PendingResponses();
    const settled: boolean[] = [];
    pending.expect({ kind: 'parse', settle: (ok) => settled.push(ok) });
    pending.expect({ kind: 'bind', settle: (ok) => settled.push(ok) });
    pending.expect({ kind: 'sync' });
    pending.complete(false);
    pending.skipUntilSync();
    assert.equal(pending.head?.kind, 'sync');
    assert.deepEqual(settled, [false, false]);
  });

  it('knows the server skips what is sent after an error until a Sync is sent', () => {
    const pending = new PendingResponses();
    pending.expect({ kind: 'close', settle: () => undefined });
    pending.complete(false);
    pending.skipUntilSync();
    assert.equal(pending.skipping, true);
    let settledAs: boolean | undefined;
    assert.equal(pending.expect({ kind: 'bind', settle: (ok) => (settledAs = ok) }), false);
    assert.equal(settledAs, false);
    assert.equal(pending.expect({ kind: 'sync' }), true);
    assert.equal(pending.skipping, false);
    assert.equal(pending.size, 1);
  });

  it('keeps refusals in order with the rest', () => {
    const pending = new PendingResponses();
    const error = new PgError(SQLSTATE.insufficientPrivilege, 'no');
    pending.expect({ kind: 'sync' });
    pending.expect({ kind: 'refusal', error, simple: true });
    assert.equal(pending.complete()?.kind, 'sync');
    assert.equal(pending.head?.kind, 'refusal');
  });
});

describe('NameRegistry', () => {
  it('uses a proposed value in its own sync segment and waits for the server in later ones', async () => {
    const names = new NameRegistry<string>();
    const settleFirst = names.propose('s', 'first', 0);
    settleFirst(true);
    const settleSecond = names.propose('s', 'second', 1);
    assert.equal(await names.lookup('s', 1), 'second');
    const later = names.lookup('s', 2);
    settleSecond(false); // the server refused the second Parse: "s" still runs the first text
    assert.equal(await later, 'first');
  });

  it('forgets confirmed names when SQL may have changed them, and names closed by Close', async () => {
    const names = new NameRegistry<string>();
    names.propose('a', 'x', 0)(true);
    names.propose('b', 'y', 0)(true);
    names.forget('a');
    assert.equal(await names.lookup('a', 1), undefined);
    names.forgetConfirmed();
    assert.equal(await names.lookup('b', 1), undefined);
  });
});
