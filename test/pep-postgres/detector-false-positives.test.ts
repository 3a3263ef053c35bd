// The value detectors run on every cell a masked principal reads that no obligation covers. Ids,
// digests, timestamps and addresses must come back exactly as stored (a UUID's digits are no card
// number), while a real card number in free text is still caught. (A bare 16-digit number of a
// card range that passes Luhn is a card number by every test a value allows: it is caught.)
// Real PDP, PEP and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPepStack, type PepStack } from './pep-stack.ts';

const ROWS = 3000;

const SEED = `
  CREATE TABLE shipments AS
  SELECT g AS id,
         gen_random_uuid()::text AS tracking_uuid,
         replace(gen_random_uuid()::text, '-', '') AS compact_uuid,
         encode(sha256(g::text::bytea), 'hex') AS sha256,
         md5(g::text) AS md5,
         'ORD-' || (4000000000000000 + g * 7919)::text AS order_ref,
         (timestamp '2001-09-09 01:46:40' + g * interval '37 minutes')::text AS shipped_at,
         (extract(epoch FROM timestamp '1995-01-01' + g * interval '1 hour') * 1000000000)::bigint::text AS epoch_ns,
         ('10.' || (g % 250) || '.' || (g % 7) || '.' || (g % 200))::inet::text AS host,
         ('fe80::' || to_hex(g % 65536) || ':' || to_hex((g * 31) % 65536))::inet::text AS host6,
         'v' || (g % 5) || '.' || (g % 17) || '.' || g AS version
  FROM generate_series(1, ${ROWS}) g;
  CREATE TABLE notes (id int, body text);
  INSERT INTO notes VALUES (1, 'card on file 4111 1111 1111 1111, call +1 (415) 555-0173'), (2, 'ticket babbb0ec-1ddd-420e-83a4-111111111111');
`;

describe('value detectors on the cells a masked principal reads', () => {
  let stack: PepStack;
  let reader: string;

  before(async () => {
    stack = await startPepStack({ resource: 'analytics-db', seed: SEED });
    reader = await stack.token('agent-false-positives', ['reader']);
  });
  after(() => stack?.close());

  it(`returns ${ROWS} rows of UUIDs, digests, order numbers, timestamps, epoch nanoseconds, addresses and versions unchanged`, async () => {
    const direct = JSON.parse(await stack.pg.sql('SELECT json_agg(s ORDER BY id)::text FROM shipments s')) as Array<Record<string, unknown>>;
    const client = await stack.client(reader);
    try {
      const throughPep = await client.query('SELECT * FROM shipments ORDER BY id');
      assert.equal(throughPep.rows.length, ROWS);
      const changed = throughPep.rows.filter((row, index) => JSON.stringify(row) !== JSON.stringify(direct[index]));
      assert.deepEqual(changed.slice(0, 5), [], `${changed.length} rows changed`);
      const asJson = await client.query('SELECT row_to_json(s)::text AS j FROM shipments s ORDER BY id');
      const changedJson = asJson.rows.filter((row, index) => JSON.stringify(JSON.parse(row.j as string)) !== JSON.stringify(direct[index]));
      assert.deepEqual(changedJson.slice(0, 5), [], `${changedJson.length} JSON rows changed`);
    } finally {
      await client.end();
    }
  });

  it('still finds a card number and a phone number in free text, and leaves a UUID beside them alone', async () => {
    const client = await stack.client(reader);
    try {
      const { rows } = await client.query('SELECT body FROM notes ORDER BY id');
      assert.deepEqual(rows.map((row) => row.body), ['card on file <CREDIT_CARD>, call <PHONE_NUMBER>', 'ticket babbb0ec-1ddd-420e-83a4-111111111111']);
    } finally {
      await client.end();
    }
  });
});
