import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { MaskedValueMemory } from '../src/masking/masked-value-memory.ts';
import {
  maskerFor,
  noticeFields,
  SEED,
  survivors,
  throughMasker,
  UNLISTED_PII,
  type MaskerSetup,
  startSeededServer,
  type SeededServer,
} from './masking-fixtures.ts';
import type { TestPostgres } from './masking-postgres.ts';
import type { BackendMessage, WireConnection } from './masking-wire.ts';

/**
 * COPY … TO STDOUT rows (text, CSV, binary) and the server's errors and notices, from a real
 * PostgreSQL through the masker: rows are masked field by field, messages that echo a value are
 * scrubbed, everything else arrives as the server sent it.
 */
describe('result masking of COPY rows, errors and notices', () => {
  let postgres: TestPostgres;
  let admin: pg.Client;
  let catalogConnection: pg.Client;
  let wire: WireConnection;
  let setup: MaskerSetup;

  let server: SeededServer;

  before(async () => {
    server = await startSeededServer();
    ({ postgres, admin, catalogConnection, wire, setup } = server);
  });
  after(async () => {
    await server?.stop();
  });

  async function run(sql: string, options: Partial<MaskerSetup> = {}) {
    const masker = await maskerFor(sql, { ...setup, ...options });
    const raw = await wire.simpleQuery(sql);
    const messages = await throughMasker(raw, masker);
    return { raw, messages, maskedCells: masker.maskedCells };
  }

  const copyText = (messages: readonly BackendMessage[]): string =>
    Buffer.concat(messages.filter((message) => message.type === 'd').map((message) => message.body)).toString('utf8');

  describe('COPY TO STDOUT', () => {
    it('text format, whole table: the catalog names the columns, sensitive ones are masked, the rest kept', async () => {
      const { raw, messages, maskedCells } = await run('COPY (SELECT * FROM users ORDER BY id) TO STDOUT');
      const lines = copyText(messages).split('\n').filter(Boolean).map((line) => line.split('\t'));
      assert.equal(lines.length, 2);
      const [jane] = lines;
      assert.deepEqual(jane?.slice(0, 4), ['1', 'Jane Doe', '****@example.com', '****']);
      assert.equal(jane?.[4], '+* ***-***-0123');
      assert.match(jane?.[5] ?? '', /^h:[0-9a-f]{16}$/);
      assert.equal(jane?.[9], 'prefers mail');
      assert.match(copyText(raw), /jane\.doe@example\.com/, 'the server did send the value');
      assert.equal(maskedCells, 2 * 7 + 1);
      assert.deepEqual(survivors(messages), []);
      assert.deepEqual(survivors(messages, UNLISTED_PII), []);
    });

    it('COPY table TO STDOUT (no query): expanded through the catalog too', async () => {
      const { messages } = await run('COPY users (id, name, ssn) TO STDOUT');
      assert.deepEqual(copyText(messages).split('\n').filter(Boolean).sort(), ['1\tJane Doe\t****', '2\tBob Roe\t****']);
      const whole = await run('COPY users TO STDOUT');
      assert.deepEqual(survivors(whole.messages), []);
      assert.match(copyText(whole.messages), /\tJane Doe\t\*\*\*\*@example\.com\t/);
    });

    it('CSV with a header, quoting and a custom delimiter: fields masked, header and framing intact', async () => {
      const sql = "COPY (SELECT id, upper(email) AS email, notes, name || ';x' AS n FROM users ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';')";
      const { messages, maskedCells } = await run(sql);
      assert.equal(
        copyText(messages),
        'id;email;notes;n\n' +
          '1;****@EXAMPLE.COM;prefers mail;"Jane Doe;x"\n' +
          '2;****@EXAMPLE.ORG;reach him at <EMAIL_ADDRESS> or <US_SSN>;"Bob Roe;x"\n',
      );
      assert.equal(maskedCells, 3);
    });

    it('binary format: masked fields become NULL, the stream stays well-formed', async () => {
      const { raw, messages, maskedCells } = await run('COPY (SELECT id, ssn, name FROM users ORDER BY id) TO STDOUT (FORMAT binary)');
      const stream = Buffer.concat(messages.filter((m) => m.type === 'd').map((m) => m.body));
      const original = Buffer.concat(raw.filter((m) => m.type === 'd').map((m) => m.body));
      assert.ok(stream.subarray(0, 11).equals(original.subarray(0, 11)), 'signature kept');
      const tuples = readBinaryCopy(stream);
      assert.deepEqual(tuples, [
        [Buffer.from([0, 0, 0, 1]), null, Buffer.from('Jane Doe')],
        [Buffer.from([0, 0, 0, 2]), null, Buffer.from('Bob Roe')],
      ]);
      assert.equal(maskedCells, 2);
      assert.deepEqual(survivors(messages), []);
    });

    it('a row split across CopyData messages is masked once it is whole', async () => {
      const sql = 'COPY (SELECT id, email FROM users ORDER BY id) TO STDOUT';
      const masker = await maskerFor(sql, setup);
      const raw = await wire.simpleQuery(sql);
      const pieces: BackendMessage[] = raw.flatMap((message) =>
        message.type === 'd'
          ? [{ type: 'd', body: message.body.subarray(0, 5) }, { type: 'd', body: message.body.subarray(5) }]
          : [message],
      );
      const messages = await throughMasker(pieces, masker);
      assert.equal(copyText(messages), '1\t****@example.com\n2\t****@example.org\n');
    });

    it('without the COPY format facts, text rows of a statement with obligations are hidden whole', async () => {
      const { messages } = await run('COPY (SELECT id, email FROM users) TO STDOUT', { facts: false });
      assert.equal(copyText(messages), '****\n****\n');
      assert.deepEqual(survivors(messages), []);
    });
  });

  describe('errors and notices', () => {
    it('a data error quoting a masked value is scrubbed; its SQLSTATE and severity stay', async () => {
      const { raw, messages } = await run('SELECT ssn::int FROM users');
      const original = noticeFields(raw.find((m) => m.type === 'E')!.body);
      assert.match(original.get('M') ?? '', /123-45-6789|234-56-7890/, 'the server echoed the value');
      const scrubbed = noticeFields(messages.find((m) => m.type === 'E')!.body);
      assert.equal(scrubbed.get('C'), '22P02');
      assert.equal(scrubbed.get('S'), 'ERROR');
      assert.equal(scrubbed.get('M'), 'invalid input syntax for type integer: "****"');
      assert.deepEqual(survivors(messages), []);
    });

    it('a unique violation loses the detail that prints the key', async () => {
      const { raw, messages } = await run(`INSERT INTO users (id, email) VALUES (9, '${SEED[0].email}')`);
      assert.match(noticeFields(raw.find((m) => m.type === 'E')!.body).get('D') ?? '', /jane\.doe@example\.com/);
      const fields = noticeFields(messages.find((m) => m.type === 'E')!.body);
      assert.equal(fields.get('C'), '23505');
      assert.equal(fields.get('D'), undefined);
      assert.match(fields.get('M') ?? '', /duplicate key value violates unique constraint "users_email_key"/);
      assert.deepEqual(survivors(messages), []);
    });

    it('a notice echoing a value masked earlier in the session is scrubbed, though no detector knows its shape', async () => {
      const memory = new MaskedValueMemory();
      await run('SELECT secret FROM users', { memory });
      const sql = "DO $$BEGIN RAISE NOTICE 'secret is %', (SELECT secret FROM users WHERE id = 1); END$$";
      const { raw, messages } = await run(sql, { memory, obligations: [] });
      assert.equal(noticeFields(raw.find((m) => m.type === 'N')!.body).get('M'), `secret is ${SEED[0].secret}`);
      assert.equal(noticeFields(messages.find((m) => m.type === 'N')!.body).get('M'), 'secret is ****');
    });

    it('a notice carrying personal data no obligation names is scrubbed by the detectors', async () => {
      const sql = "DO $$BEGIN RAISE NOTICE 'note: %', (SELECT notes FROM users WHERE id = 2); END$$";
      const { messages } = await run(sql, { obligations: [] });
      assert.equal(noticeFields(messages.find((m) => m.type === 'N')!.body).get('M'), 'note: reach him at <EMAIL_ADDRESS> or <US_SSN>');
    });

    it('an error that quotes no value passes unchanged, byte for byte', async () => {
      const { raw, messages } = await run('SELECT no_such_column FROM users');
      const before = raw.find((m) => m.type === 'E')!.body;
      const afterMasking = messages.find((m) => m.type === 'E')!.body;
      assert.ok(afterMasking.equals(before));
    });
  });
});

/** Tuples of a binary COPY stream (header skipped, trailer checked). */
function readBinaryCopy(stream: Buffer): Array<Array<Buffer | null>> {
  let offset = 11 + 4;
  offset += 4 + stream.readInt32BE(offset);
  const tuples: Array<Array<Buffer | null>> = [];
  for (;;) {
    const count = stream.readInt16BE(offset);
    offset += 2;
    if (count === -1) break;
    const cells: Array<Buffer | null> = [];
    for (let index = 0; index < count; index += 1) {
      const length = stream.readInt32BE(offset);
      offset += 4;
      cells.push(length === -1 ? null : Buffer.from(stream.subarray(offset, offset + length)));
      offset += Math.max(length, 0);
    }
    tuples.push(cells);
  }
  assert.equal(offset, stream.length, 'nothing after the trailer');
  return tuples;
}
