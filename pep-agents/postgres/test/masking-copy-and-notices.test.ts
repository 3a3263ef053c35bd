import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import {
  maskerFor,
  noticeFields,
  SEED,
  survivors,
  throughMasker,
  SENSITIVE_VALUES,
  UNLISTED_PII,
  type MaskerSetup,
  startSeededServer,
  type SeededServer,
} from './masking-fixtures.ts';
import type { BackendMessage, WireConnection } from './masking-wire.ts';

/**
 * COPY … TO STDOUT rows (text, CSV, binary) and the server's errors and notices, from a real
 * PostgreSQL through the masker: rows are masked field by field, messages that echo a value are
 * scrubbed, everything else arrives as the server sent it.
 */
describe('result masking of COPY rows, errors and notices', () => {
  let admin: pg.Client;
  let wire: WireConnection;
  let setup: MaskerSetup;

  let server: SeededServer;

  before(async () => {
    server = await startSeededServer();
    ({ admin, wire, setup } = server);
    await admin.query("CREATE TABLE checked (v text CHECK (v ~ '^[0-9]+$')); CREATE TABLE not_null_pair (a text, b text NOT NULL)");
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
    // Each makes the server quote a seeded value somewhere in an error or notice, by a route of
    // its own SQLSTATE class; the value's shape is no detector's (the secret) wherever possible.
    const leaking: Array<{ name: string; sql: string; code: string; value: string }> = [
      { name: 'a cast to int (22P02)', sql: 'SELECT secret::int FROM users', code: '22P02', value: SEED[0].secret },
      { name: 'a cast to regclass (42P01, relation does not exist)', sql: 'SELECT (SELECT secret FROM users WHERE id = 1)::regclass', code: '42P01', value: SEED[0].secret },
      { name: 'current_setting of a value (42704)', sql: 'SELECT current_setting((SELECT secret FROM users WHERE id = 2))', code: '42704', value: SEED[1].secret },
      { name: 'a cast to regproc (42883)', sql: 'SELECT (SELECT secret FROM users WHERE id = 1)::regproc', code: '42883', value: SEED[0].secret },
      { name: 'a cast to regtype (42601)', sql: 'SELECT (SELECT secret FROM users WHERE id = 2)::regtype', code: '42601', value: SEED[1].secret },
      { name: 'to_date (22007)', sql: "SELECT to_date(secret, 'YYYY-MM-DD') FROM users", code: '22007', value: SEED[0].secret.slice(0, 4) },
      { name: 'a json parse error (22P02, detail)', sql: `SELECT ('{"a": ' || secret || '}')::json FROM users`, code: '22P02', value: SEED[0].secret.split('-')[0]! },
      { name: 'a cast to uuid (22P02)', sql: 'SELECT ssn::uuid FROM users', code: '22P02', value: SEED[0].ssn },
      { name: 'a unique violation (23505, Key (…)=(…))', sql: `INSERT INTO users (id, email) VALUES (9, '${SEED[0].email}')`, code: '23505', value: SEED[0].email },
      { name: 'a check violation (23514, Failing row contains)', sql: "INSERT INTO checked SELECT secret FROM users WHERE id = 1", code: '23514', value: SEED[0].secret },
      { name: 'a not-null violation (23502, Failing row contains)', sql: 'INSERT INTO not_null_pair SELECT secret, NULL FROM users WHERE id = 1', code: '23502', value: SEED[0].secret },
      { name: 'RAISE EXCEPTION of a value (P0001)', sql: "DO $$BEGIN RAISE EXCEPTION '%', (SELECT secret FROM users WHERE id = 1); END$$", code: 'P0001', value: SEED[0].secret },
      { name: 'RAISE with detail and hint (P0001)', sql: "DO $$BEGIN RAISE EXCEPTION 'x' USING DETAIL = (SELECT secret FROM users WHERE id = 1), HINT = (SELECT secret FROM users WHERE id = 2); END$$", code: 'P0001', value: SEED[1].secret },
      { name: 'RAISE with a computed SQLSTATE', sql: "DO $$BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'XY' || '123'; END$$", code: 'P0001', value: 'XY123' },
      { name: 'an error in dynamic SQL (internal query, context)', sql: "DO $$BEGIN EXECUTE 'SELECT ' || quote_literal((SELECT secret FROM users WHERE id = 1)) || '::int'; END$$", code: '22P02', value: SEED[0].secret },
      { name: 'division by zero with the value in the context (22012)', sql: "DO $$DECLARE v text := (SELECT secret FROM users WHERE id = 2); BEGIN EXECUTE 'SELECT 1 / 0 WHERE ' || quote_literal(v) || ' IS NOT NULL'; END$$", code: '22012', value: SEED[1].secret },
      { name: 'a set_config of a value as a parameter name (42704)', sql: "SELECT set_config((SELECT secret FROM users WHERE id = 1), 'x', false)", code: '42704', value: SEED[0].secret },
    ];

    for (const testCase of leaking) {
      it(`${testCase.name}: only SQLSTATE, severity and a fixed text reach the client`, async () => {
        const { raw, messages } = await run(testCase.sql);
        const originals = raw.filter((m) => m.type === 'E').map((m) => m.body.toString('utf8'));
        assert.ok(originals.some((text) => text.includes(testCase.value)), `the server echoed the value: ${originals.join(' | ')}`);
        const reduced = messages.filter((m) => m.type === 'E');
        assert.equal(reduced.length, 1);
        const fields = noticeFields(reduced[0]!.body);
        assert.equal(fields.get('C'), testCase.code);
        assert.equal(fields.get('S'), 'ERROR');
        assert.equal(fields.get('V'), 'ERROR');
        // A message with no variable part (division by zero) is kept; any other is the condition's name, with a hint why.
        if (fields.get('M') !== 'division by zero') assert.match(fields.get('H') ?? '', /withheld/);
        assert.deepEqual([...fields.keys()].filter((key) => !'SVCMHP'.includes(key)), [], 'no other field');
        assert.deepEqual(survivors(messages, [testCase.value, ...SENSITIVE_VALUES]), []);
      });
    }

    it('a notice from RAISE NOTICE, WARNING or INFO keeps its severity, not its text', async () => {
      const sql = "DO $$BEGIN RAISE NOTICE '%', (SELECT secret FROM users WHERE id = 1); RAISE WARNING 'w %', (SELECT email FROM users WHERE id = 2) USING DETAIL = 'd', HINT = 'h'; RAISE INFO 'i %', (SELECT notes FROM users WHERE id = 2); END$$";
      const { raw, messages } = await run(sql, { obligations: [] });
      assert.equal(noticeFields(raw.find((m) => m.type === 'N')!.body).get('M'), SEED[0].secret);
      const notices = messages.filter((m) => m.type === 'N').map((m) => noticeFields(m.body));
      assert.deepEqual(notices.map((fields) => [fields.get('V'), fields.get('C'), fields.get('M')]), [
        ['NOTICE', '00000', 'notice'],
        ['WARNING', '01000', 'warning'],
        ['INFO', '00000', 'notice'],
      ]);
      assert.deepEqual(survivors(messages, [...SENSITIVE_VALUES, ...UNLISTED_PII]), []);
    });

    it('an error quoting nothing is reduced too: the rule depends on no guess about the text', async () => {
      const { messages } = await run('SELECT no_such_column FROM users');
      const fields = noticeFields(messages.find((m) => m.type === 'E')!.body);
      assert.deepEqual([fields.get('C'), fields.get('M')], ['42703', 'undefined column']);
      assert.match(fields.get('P') ?? '', /^\d+$/, 'the position in the client\'s own text stays');
    });

    it('a principal who reads unmasked gets the server\'s text byte for byte', async () => {
      const { raw, messages } = await run('SELECT secret::int FROM users', { serverText: 'show', scrubber: null });
      const before = raw.find((m) => m.type === 'E')!.body;
      assert.ok(messages.find((m) => m.type === 'E')!.body.equals(before));
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
