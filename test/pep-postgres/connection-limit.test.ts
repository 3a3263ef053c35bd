// PORTCULLIS_PEP_MAX_CONNECTIONS: a client past the limit gets SQLSTATE 53300 before anything
// else happens (no decision, no upstream session), and a freed slot is usable again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { eventually } from '../support/eventually.ts';

describe('the Postgres PEP\'s connection limit', () => {
  let stack: PepStack;
  let token: string;

  before(async () => {
    stack = await startPepStack({ pepEnv: { PORTCULLIS_PEP_MAX_CONNECTIONS: '2' } });
    token = await stack.token('agent-limit', ['reader']);
  });
  after(async () => {
    await stack?.close();
  });

  test('the third client is refused with 53300, opens no upstream session, and a freed slot serves again', async () => {
    const first = await stack.client(token);
    const second = await stack.client(token);
    assert.equal(await stack.upstreamBackendsSettle(2), 2);

    const refused = await stack.client(token).then(
      (client: pg.Client) => ({ client, error: undefined }),
      (error: Error & { code?: string }) => ({ client: undefined, error }),
    );
    assert.equal(refused.client, undefined, 'the third connection must not be accepted');
    assert.equal(refused.error?.code, '53300');
    assert.match(refused.error?.message ?? '', /too many clients/);
    assert.equal(await stack.upstreamBackends(), 2, 'no upstream session for the refused client');

    // The two admitted sessions keep working.
    assert.equal((await first.query('SELECT count(*)::int AS n FROM orders')).rows[0].n, 20);
    await second.end();
    assert.equal(await stack.upstreamBackendsSettle(1), 1);

    // The PEP notices the closed session a moment after the client has gone.
    const again = await eventually('a freed slot admits a new client', () => stack.client(token), { timeoutMs: 2_500 });
    assert.ok(again, 'a freed slot admits a new client');
    assert.equal((await again.query('SELECT 1 AS one')).rows[0].one, 1);
  });
});
