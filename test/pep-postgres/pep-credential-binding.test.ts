import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPepStack, type PepStack } from './pep-stack.ts';

/**
 * The Postgres PEP's credential names the resources it fronts. A PEP set up for one database
 * with a credential bound to another gets nothing decided: every login is refused with the
 * PDP's reason, and no upstream session is opened.
 */
describe('a Postgres PEP whose credential fronts another resource', () => {
  let stack: PepStack;
  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db', pepResources: ['orders-db', 'staging-*'] });
  });
  after(() => stack.close());

  it('refuses every login, naming the resource, and opens no upstream session', async () => {
    const before = (await stack.pdp.auditEvents()).length;
    const reader = await stack.token('agent-reader', ['reader']);
    const result = await stack.psql(reader, 'SELECT 1;', ['-A', '-t']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /does not front postgres analytics-db/);
    assert.equal(await stack.upstreamBackends(), 0);
    await assert.rejects(stack.client(reader), /does not front postgres analytics-db/);
    assert.equal((await stack.pdp.auditEvents()).length, before, 'the PDP decided nothing for it');
  });
});
