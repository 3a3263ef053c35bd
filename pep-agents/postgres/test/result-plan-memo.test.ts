import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMaskStrategyRegistry, type MaskObligationV1 } from '@portcullis/pep-core';
import type pg from 'pg';
import { PgCatalogResolver } from '../src/masking/pg-catalog-resolver.ts';
import { SessionMaskerFactory } from '../src/masking/session-masker-factory.ts';
import type { ResultMaskingContext } from '../src/session/result-masker.ts';
import { textRows } from './masking-fixtures.ts';
import { startTestPostgres, type TestPostgres } from './masking-postgres.ts';
import { WireConnection, type BackendMessage } from './masking-wire.ts';

/**
 * A session keeps the plans of its results and recalls one for a statement described the same
 * way under the same decision: a plan recalled must be the plan that would be made now.
 */
describe('result plans kept per session', () => {
  let postgres: TestPostgres;
  let admin: pg.Client;
  let wire: WireConnection;

  before(async () => {
    postgres = await startTestPostgres();
    admin = await postgres.client();
    wire = await WireConnection.open(postgres.socketPath);
  });
  after(async () => {
    wire?.close();
    await admin?.end();
    await postgres?.stop();
  });

  const framed = (message: BackendMessage): Buffer => {
    const header = Buffer.alloc(5);
    header.write(message.type, 0, 'latin1');
    header.writeInt32BE(message.body.length + 4, 1);
    return Buffer.concat([header, message.body]);
  };

  /** One statement's rows as a session's masker for `context` relays them. */
  const relayed = async (factory: SessionMaskerFactory, sql: string, obligations: readonly MaskObligationV1[]): Promise<Array<Array<string | null>>> => {
    const context: ResultMaskingContext = { obligations, statement: { sql, decisionId: 'd-1', protocol: 'simple', resultFormats: [] } };
    const masker = factory.create(context);
    const rows: BackendMessage[] = [];
    for (const message of await wire.simpleQuery(sql)) {
      if (message.type === 'T') await masker.onRowDescription(framed(message));
      if (message.type === 'D') rows.push({ type: 'D', body: (await masker.onDataRow(framed(message))).subarray(5) });
    }
    return textRows(rows);
  };

  const factoryWith = (catalog: PgCatalogResolver): SessionMaskerFactory =>
    // No statement facts: table columns are placed by the catalog alone.
    new SessionMaskerFactory({ catalog, strategies: createMaskStrategyRegistry(), scrubber: null, factsFor: () => undefined });

  it('plans again once the catalog has read the table again: a column renamed to a masked name is masked', async () => {
    await admin.query('CREATE TABLE memo_renamed (id int, a text, b text)');
    await admin.query("INSERT INTO memo_renamed VALUES (1, 'alpha', 'beta')");
    let now = 1_000_000;
    const factory = factoryWith(new PgCatalogResolver(admin, { ttlMs: 1000, now: () => now }));
    const obligations: MaskObligationV1[] = [{ table: 'memo_renamed', column: 'a', strategy: 'redact' }];
    assert.deepEqual(await relayed(factory, 'SELECT b AS v FROM memo_renamed', obligations), [['beta']]);
    assert.deepEqual(await relayed(factory, 'SELECT b AS v FROM memo_renamed', obligations), [['beta']], 'the same plan, recalled');
    // Column 3 is now the one the obligation names; the server describes the next result with the same bytes.
    await admin.query('ALTER TABLE memo_renamed RENAME COLUMN a TO x');
    await admin.query('ALTER TABLE memo_renamed RENAME COLUMN b TO a');
    now += 2000;
    assert.deepEqual(await relayed(factory, 'SELECT a AS v FROM memo_renamed', obligations), [['****']]);
  });

  it('plans again under other obligations for a result described the same way', async () => {
    await admin.query('CREATE TABLE memo_obligations (id int, b text)');
    await admin.query("INSERT INTO memo_obligations VALUES (1, 'beta')");
    const factory = factoryWith(new PgCatalogResolver(admin));
    const sql = 'SELECT b FROM memo_obligations';
    const none: MaskObligationV1[] = [];
    assert.deepEqual(await relayed(factory, sql, none), [['beta']]);
    assert.deepEqual(await relayed(factory, sql, none), [['beta']]);
    assert.deepEqual(await relayed(factory, sql, [{ table: 'memo_obligations', column: 'b', strategy: 'redact' }]), [['****']]);
    assert.deepEqual(await relayed(factory, sql, none), [['beta']]);
  });
});
