import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMaskStrategyRegistry } from '@portcullis/pep-core';
import type pg from 'pg';
import { PgCatalogResolver, type CatalogQueryRunner } from '../src/masking/pg-catalog-resolver.ts';
import { SessionMaskerFactory } from '../src/masking/session-masker-factory.ts';
import type { ResultMaskingContext } from '../src/session/result-masker.ts';
import { decodeRowDescription } from '../src/masking/row-description.ts';
import { HASH_KEY, maskerFor, noticeFields, OBLIGATIONS, SEED, seedUsers, statementFacts, survivors, textRows, throughMasker } from './masking-fixtures.ts';
import { startTestPostgres, type TestPostgres } from './masking-postgres.ts';
import { WireConnection, type BackendMessage } from './masking-wire.ts';

/** Counts the catalog queries a resolver sends to a real connection. */
function counting(connection: pg.Client): CatalogQueryRunner & { queries: number } {
  const runner = {
    queries: 0,
    query(text: string, values: unknown[]) {
      runner.queries += 1;
      return connection.query(text, values);
    },
  };
  return runner;
}

describe('the catalog resolver and the session seam', () => {
  let postgres: TestPostgres;
  let admin: pg.Client;
  let wire: WireConnection;

  before(async () => {
    postgres = await startTestPostgres();
    admin = await postgres.client();
    await seedUsers(admin);
    await admin.query('CREATE SCHEMA billing');
    await admin.query('CREATE TABLE billing.users (id int, iban text)');
    wire = await WireConnection.open(postgres.socketPath);
  });
  after(async () => {
    wire?.close();
    await admin?.end();
    await postgres?.stop();
  });

  const fieldsOf = async (sql: string) => {
    const messages = await wire.simpleQuery(sql);
    return decodeRowDescription(messages.find((message) => message.type === 'T')!.body);
  };

  describe('PgCatalogResolver', () => {
    it('names the table and column behind each OID and attribute number of a RowDescription', async () => {
      const fields = await fieldsOf('SELECT u.email AS contact, b.iban, 1 AS one FROM users u, billing.users b');
      const resolver = new PgCatalogResolver(admin);
      const tables = await resolver.tablesByOid(fields.filter((f) => f.tableOid !== 0).map((f) => f.tableOid));
      const named = fields.map((field) => {
        const table = tables.get(field.tableOid);
        return table ? `${table.schema}.${table.table}.${table.columns.get(field.attnum)}` : null;
      });
      assert.deepEqual(named, ['public.users.email', 'billing.users.iban', null]);
    });

    it('asks the catalog once per table while its answer is fresh, and again once it is stale', async () => {
      let now = 1_000;
      const runner = counting(admin);
      const resolver = new PgCatalogResolver(runner, { ttlMs: 60_000, now: () => now });
      const [field] = await fieldsOf('SELECT email FROM users');
      await Promise.all([resolver.tablesByOid([field!.tableOid]), resolver.tablesByOid([field!.tableOid])]);
      await resolver.tablesByOid([field!.tableOid]);
      assert.equal(runner.queries, 1, 'concurrent and repeated look-ups share one query');
      await admin.query('ALTER TABLE users ADD COLUMN nickname text');
      now += 60_001;
      const table = (await resolver.tablesByOid([field!.tableOid])).get(field!.tableOid);
      assert.equal(runner.queries, 2);
      assert.equal(table?.columnOrder.at(-1), 'nickname');
      await admin.query('ALTER TABLE users DROP COLUMN nickname');
    });

    it('resolves table names as the server does, bare and schema-qualified; unknown names are undefined', async () => {
      const resolver = new PgCatalogResolver(admin);
      assert.equal((await resolver.tableByName('users'))?.schema, 'public');
      assert.deepEqual((await resolver.tableByName('billing.users'))?.columnOrder, ['id', 'iban']);
      assert.equal(await resolver.tableByName('no_such_table'), undefined);
    });

    it('when the catalog connection fails, table columns of a statement with obligations are masked outright', async () => {
      const broken = await postgres.client();
      await broken.end();
      const sql = 'SELECT id, email FROM users ORDER BY id';
      const masker = await maskerFor(sql, { catalog: new PgCatalogResolver(broken) });
      const rows = textRows(await throughMasker(await wire.simpleQuery(sql), masker));
      // Redacted in kind: an int column gets the int placeholder.
      assert.deepEqual(rows, [
        ['0', '****'],
        ['0', '****'],
      ]);
    });
  });

  describe('SessionMaskerFactory (whole messages, as the relay hands them over)', () => {
    const framed = (message: BackendMessage): Buffer => {
      const header = Buffer.alloc(5);
      header.write(message.type, 0, 'latin1');
      header.writeInt32BE(message.body.length + 4, 1);
      return Buffer.concat([header, message.body]);
    };

    function context(sql: string, protocol: 'simple' | 'extended' = 'simple'): ResultMaskingContext {
      return { obligations: OBLIGATIONS, statement: { sql, decisionId: 'd-1', protocol, resultFormats: [] } };
    }

    it('rewrites whole messages with correct lengths and hands untouched ones back as they were', async () => {
      const sql = 'SELECT id, email FROM users ORDER BY id';
      const facts = await statementFacts(sql);
      const factory = new SessionMaskerFactory({
        catalog: new PgCatalogResolver(admin),
        strategies: createMaskStrategyRegistry({ hashKey: HASH_KEY }),
        factsFor: () => facts,
      });
      assert.equal(factory.supports(OBLIGATIONS), true);
      const masker = factory.create(context(sql));
      const out: Buffer[] = [];
      for (const message of await wire.simpleQuery(sql)) {
        const whole = framed(message);
        if (message.type === 'T') {
          const result = await masker.onRowDescription(whole);
          assert.equal(result, whole, 'RowDescription is passed on as it came');
          out.push(result);
        } else if (message.type === 'D') {
          const result = await masker.onDataRow(whole);
          assert.equal(result.readInt32BE(1), result.length - 1, 'the length field matches the rewritten message');
          assert.equal(String.fromCharCode(result[0]!), 'D');
          out.push(result);
        }
      }
      const rows = textRows(out.map((message) => ({ type: String.fromCharCode(message[0]!), body: message.subarray(5) })));
      assert.deepEqual(rows, [
        ['1', '****@example.com'],
        ['2', '****@example.org'],
      ]);
      assert.equal(masker.maskedCells, 2);
    });

    it("reads the statement's provenance from the decision's enrichment when the context carries it", async () => {
      const sql = 'SELECT upper(email) AS e FROM users ORDER BY id';
      const factory = new SessionMaskerFactory({ catalog: new PgCatalogResolver(admin), strategies: createMaskStrategyRegistry() });
      const run = async (enrichment: unknown) => {
        const masker = factory.create({ ...context(sql), enrichment } as ResultMaskingContext);
        const out: BackendMessage[] = [];
        for (const message of await wire.simpleQuery(sql)) {
          if (message.type === 'T') await masker.onRowDescription(framed(message));
          if (message.type === 'D') out.push({ type: 'D', body: (await masker.onDataRow(framed(message))).subarray(5) });
        }
        return textRows(out).map((row) => row[0]);
      };
      const facts = await statementFacts(sql);
      assert.deepEqual(await run({ statements: [{ kind: 'select', ...facts }] }), ['****@EXAMPLE.COM', '****@EXAMPLE.ORG'], 'partial, as email is');
      // Malformed or missing provenance: the expression cannot be placed, so it is redacted whole.
      assert.deepEqual(await run({ statements: [{ kind: 'select', outputs: [{ name: 'e' }] }] }), ['****', '****']);
      assert.deepEqual(await run(undefined), ['****', '****']);
    });

    it('withholds the server\'s text of a later statement without obligations: the principal\'s results are masked', async () => {
      const factory = new SessionMaskerFactory({ catalog: new PgCatalogResolver(admin), strategies: createMaskStrategyRegistry() });
      const notice = "DO $$BEGIN RAISE NOTICE '%', (SELECT secret FROM users WHERE id = 2); END$$";
      const later = factory.create({ obligations: [], statement: { sql: notice, decisionId: 'd-2', protocol: 'simple', resultFormats: [] } });
      const message = (await wire.simpleQuery(notice)).find((m) => m.type === 'N')!;
      const reduced = await later.onErrorOrNotice(framed(message));
      assert.equal(noticeFields(reduced.subarray(5)).get('M'), 'notice');
      assert.deepEqual(survivors([{ type: 'N', body: reduced.subarray(5) }]), []);
      assert.equal(factory.sessionMessages.masked, true);
      const clear = new SessionMaskerFactory({ catalog: new PgCatalogResolver(admin), strategies: createMaskStrategyRegistry() });
      const entitled = clear.create({ obligations: [], unmasked: true, statement: { sql: notice, decisionId: 'd-3', protocol: 'simple', resultFormats: [] } });
      assert.equal(noticeFields((await entitled.onErrorOrNotice(framed(message))).subarray(5)).get('M'), SEED[1].secret);
    });
  });
});
