import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMaskStrategyRegistry } from '@portcullis/pep-core';
import type pg from 'pg';
import {
  dataRows,
  HASH_KEY,
  maskerFor,
  OBLIGATIONS,
  OTHER_HASH_KEY,
  survivors,
  textRows,
  throughMasker,
  UNLISTED_PII,
  type MaskerSetup,
  startSeededServer,
  type SeededServer,
} from './masking-fixtures.ts';
import type { BackendMessage, WireConnection } from './masking-wire.ts';

/**
 * Result masking on the real bytes of a real PostgreSQL: whatever shape a query takes (aliases,
 * stars, expressions, whole rows, subqueries, CTEs, binary results), no seeded sensitive value
 * reaches the client, and nothing else is changed.
 */
describe('result masking of SELECT results', () => {
  let admin: pg.Client;
  let wire: WireConnection;
  let setup: MaskerSetup;

  let server: SeededServer;

  before(async () => {
    server = await startSeededServer();
    ({ admin, wire, setup } = server);
  });
  after(async () => {
    await server?.stop();
  });

  async function masked(sql: string, options: Partial<MaskerSetup> = {}): Promise<{ messages: BackendMessage[]; maskedCells: number }> {
    const masker = await maskerFor(sql, { ...setup, ...options });
    const raw = options.resultFormats ? await wire.extendedQuery(sql, [], options.resultFormats) : await wire.simpleQuery(sql);
    assert.equal(raw.find((message) => message.type === 'E'), undefined, `the server refused ${sql}`);
    const messages = await throughMasker(raw, masker);
    return { messages, maskedCells: masker.maskedCells };
  }

  it('masks direct columns by their strategies and leaves the others as they were', async () => {
    const { messages, maskedCells } = await masked('SELECT id, name, email, ssn, phone FROM users ORDER BY id');
    assert.deepEqual(textRows(messages), [
      ['1', 'Jane Doe', '****@example.com', '****', '+* ***-***-0123'],
      ['2', 'Bob Roe', '****@example.org', '****', '(***) ***-0199'],
    ]);
    assert.equal(maskedCells, 6);
    assert.deepEqual(survivors(messages), []);
  });

  it('masks by the source column, whatever the alias', async () => {
    const { messages, maskedCells } = await masked('SELECT u.email AS contact, u.ssn AS x, u.name AS ssn FROM users u ORDER BY u.id');
    assert.deepEqual(textRows(messages), [
      ['****@example.com', '****', 'Jane Doe'],
      ['****@example.org', '****', 'Bob Roe'],
    ]);
    assert.equal(maskedCells, 4);
  });

  it('masks SELECT * through the catalog, every sensitive column and nothing else', async () => {
    const { messages, maskedCells } = await masked('SELECT * FROM users ORDER BY id');
    const [jane] = textRows(messages);
    assert.equal(jane?.[0], '1');
    assert.equal(jane?.[1], 'Jane Doe');
    assert.equal(jane?.[2], '****@example.com');
    assert.equal(jane?.[3], '****');
    assert.match(jane?.[5] ?? '', /^h:[0-9a-f]{16}$/);
    assert.equal(jane?.[6], '0', 'a redacted int is a valid int');
    assert.match(jane?.[7] ?? '', /^\\x[0-9a-f]+$/, 'a hashed bytea is a valid bytea');
    assert.equal(jane?.[9], 'prefers mail');
    assert.equal(maskedCells, 14 + 1, 'seven masked columns in two rows, and the one notes cell holding personal data');
    assert.deepEqual(survivors(messages), []);
    assert.deepEqual(survivors(messages, UNLISTED_PII), []);
  });

  it('masks expressions by what they are computed from: upper(email), email::text, concatenations', async () => {
    const { messages } = await masked("SELECT upper(email), email::text AS e, email::varchar(64) AS c, ssn || '!' AS s, length(name) FROM users ORDER BY id");
    // email::varchar(64) may cut the value: computed, hidden whole like any other transformation.
    assert.deepEqual(textRows(messages), [
      ['****@EXAMPLE.COM', '****@example.com', '****', '****', '8'],
      ['****@EXAMPLE.ORG', '****@example.org', '****', '****', '7'],
    ]);
    assert.deepEqual(survivors(messages), []);
  });

  it('masks a whole row (row_to_json(u)) with the strictest strategy of its table', async () => {
    const { messages, maskedCells } = await masked('SELECT row_to_json(u) AS j, id FROM users u ORDER BY id');
    assert.deepEqual(textRows(messages), [
      ['"****"', '1'],
      ['"****"', '2'],
    ]);
    assert.equal(maskedCells, 2);
  });

  it('masks through subqueries and CTEs, expression columns included', async () => {
    const subquery = await masked('SELECT s.e, s.x, s.n FROM (SELECT email AS e, lower(ssn) AS x, name AS n FROM users) s ORDER BY s.n');
    assert.deepEqual(textRows(subquery.messages), [
      ['****@example.org', '****', 'Bob Roe'],
      ['****@example.com', '****', 'Jane Doe'],
    ]);
    const cte = await masked('WITH c AS (SELECT phone, name FROM users) SELECT upper(phone) AS p, name FROM c ORDER BY name');
    assert.deepEqual(textRows(cte.messages), [
      ['(***) ***-0199', 'Bob Roe'],
      ['+* ***-***-0123', 'Jane Doe'],
    ]);
    assert.deepEqual(survivors([...subquery.messages, ...cte.messages]), []);
  });

  it('without the PDP provenance, an expression column of a statement with obligations is redacted', async () => {
    const { messages } = await masked('SELECT upper(name) AS n, email FROM users ORDER BY id', { facts: false });
    assert.deepEqual(textRows(messages), [
      ['****', '****@example.com'],
      ['****', '****@example.org'],
    ]);
  });

  it('with no obligations, only the detectors act: personal data in free text is replaced in place', async () => {
    const { messages, maskedCells } = await masked('SELECT id, notes FROM users ORDER BY id', { obligations: [] });
    assert.deepEqual(textRows(messages), [
      ['1', 'prefers mail'],
      ['2', 'reach him at <EMAIL_ADDRESS> or <US_SSN>'],
    ]);
    assert.equal(maskedCells, 1);
  });

  it('binary results: text and json rewritten in kind, int and bytea rewritten as valid binary values', async () => {
    const sql = 'SELECT id, salary, ssn, badge, email, card, notes, row_to_json(u)::jsonb AS j FROM users u ORDER BY id';
    const { messages, maskedCells } = await masked(sql, { resultFormats: [1] });
    const [jane, bob] = dataRows(messages);
    assert.equal(jane?.[0]?.readInt32BE(0), 1, 'an unmasked binary int is untouched');
    assert.equal(jane?.[1]?.length, 4);
    assert.equal(jane?.[1]?.readInt32BE(0), 0, 'a redacted binary int4 is the int4 0');
    assert.equal(jane?.[2]?.toString('utf8'), '****');
    assert.ok(jane?.[3] && jane[3].length === 16 && !jane[3].equals(Buffer.from('deadbeef', 'hex')), 'a hashed bytea is 16 raw bytes');
    assert.equal(jane?.[4]?.toString('utf8'), '****@example.com');
    assert.equal(jane?.[7]?.[0], 1, 'jsonb keeps its version byte');
    assert.equal(jane?.[7]?.subarray(1).toString('utf8'), '"****"');
    assert.equal(bob?.[6]?.toString('utf8'), 'reach him at <EMAIL_ADDRESS> or <US_SSN>');
    assert.equal(maskedCells, 2 * 6 + 1);
    assert.deepEqual(survivors(messages), []);
  });

  it('a keyed hash is the same in every session and format with the same key, and differs with another key', async () => {
    const sql = 'SELECT card FROM users ORDER BY id';
    const first = textRows((await masked(sql)).messages);
    const second = textRows((await masked(sql)).messages);
    const binary = dataRows((await masked(sql, { resultFormats: [1] })).messages).map((row) => row.map((cell) => cell?.toString('utf8') ?? null));
    const otherKey = textRows((await masked(sql, { strategies: createMaskStrategyRegistry({ hashKey: OTHER_HASH_KEY }) })).messages);
    assert.deepEqual(second, first);
    assert.deepEqual(binary, first);
    assert.notDeepEqual(otherKey, first);
    assert.notEqual(first[0]?.[0], first[1]?.[0], 'different values, different pseudonyms');
    assert.ok(HASH_KEY !== OTHER_HASH_KEY);
  });

  it('a hashed column still joins: equal values give equal pseudonyms across tables', async () => {
    await admin.query('CREATE TABLE IF NOT EXISTS cards (owner int, card text)');
    await admin.query('TRUNCATE cards');
    await admin.query('INSERT INTO cards SELECT id, card FROM users');
    const obligations = [...OBLIGATIONS, { table: 'cards', column: 'card', strategy: 'hash' }];
    const users = textRows((await masked('SELECT card FROM users ORDER BY id', { obligations })).messages);
    const cards = textRows((await masked('SELECT card FROM cards ORDER BY owner', { obligations })).messages);
    assert.deepEqual(cards, users);
  });

  it('rows that arrive without their RowDescription are sent as NULLs when the statement has obligations', async () => {
    const sql = 'SELECT id, email FROM users ORDER BY id';
    const masker = await maskerFor(sql, setup);
    const rowsOnly = (await wire.simpleQuery(sql)).filter((message) => message.type === 'D');
    const messages = await throughMasker(rowsOnly, masker);
    assert.deepEqual(textRows(messages), [
      [null, null],
      [null, null],
    ]);
    assert.equal(masker.maskedCells, 4);
  });

  it('every seeded value stays hidden across the shapes an agent may try', async () => {
    const shapes = [
      'SELECT u.* FROM users u',
      'SELECT (u).email, (u).ssn FROM users u',
      'SELECT concat_ws(\',\', email, ssn, phone, card, secret) FROM users',
      'SELECT string_agg(secret, \' \') FROM users',
      "SELECT x FROM users AS u(i, n, x)",
      'SELECT * FROM (SELECT * FROM users) s',
      'SELECT email FROM users UNION ALL SELECT ssn FROM users',
      'SELECT (SELECT max(ssn) FROM users) AS top',
      'SELECT array_agg(phone) FROM users',
      'SELECT to_jsonb(users) FROM users',
    ];
    for (const sql of shapes) {
      const { messages } = await masked(sql);
      assert.deepEqual(survivors(messages), [], sql);
    }
  });
});
