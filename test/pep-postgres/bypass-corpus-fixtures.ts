// The bypass corpus's data and cases: distinctive sensitive values seeded into a real cluster,
// the statements a `reader` agent must never get past the PEP on orders-db, and the reads it may
// run but must only ever see masked.
//
// Bob's values are shaped so that the PEP's value detectors do not recognise them (a bare
// nine-digit SSN, a bare phone number, a card number that fails Luhn): only column masking can
// hide them, so a read that escapes its obligation shows up here instead of being rescued.

export interface SeededUser {
  readonly id: number;
  readonly name: string;
  readonly email: string;
  readonly ssn: string;
  readonly phone: string;
}

export const ALICE: SeededUser = { id: 1, name: 'Alice Seedling', email: 'seed.alice@example.org', ssn: '372-81-4650', phone: '+1 (415) 555-0173' };
export const BOB: SeededUser = { id: 2, name: 'Bob Quietly', email: 'b.k7xvane@example.net', ssn: '518204937', phone: '4155550199' };

export const CUSTOMERS = [
  { id: 1, holder: 'Acme Seedworks', card: '4539 1488 0343 6467' }, // Luhn-valid
  { id: 2, holder: 'Quiet Holdings', card: '4000 1234 5678 9011' }, // fails Luhn: detectors miss it
] as const;

/** Where a refused COPY … TO '<file>' would have written, if it had run. */
export function copyTargetFile(dir: string): string {
  return `${dir}/bypass-copy-out.txt`;
}

export function seedSql(): string {
  const users = [ALICE, BOB].map((u) => `(${u.id}, '${u.name}', '${u.email}', '${u.ssn}', '${u.phone}')`).join(', ');
  const customers = CUSTOMERS.map((c) => `(${c.id}, '${c.holder}', '${c.card}')`).join(', ');
  return `
    CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text, ssn text, phone text);
    INSERT INTO users VALUES ${users};
    CREATE TABLE customers (id int PRIMARY KEY, holder text NOT NULL, card_number text);
    INSERT INTO customers VALUES ${customers};
    CREATE VIEW users_view AS SELECT id, name, email, ssn FROM users;
    CREATE VIEW users_view_nested AS SELECT v.name, v.email AS contact, v.ssn FROM users_view v;
    CREATE MATERIALIZED VIEW users_mv AS SELECT id, name, email, ssn, phone FROM users;
    CREATE FUNCTION user_email(uid int) RETURNS text LANGUAGE sql STABLE AS $$SELECT email FROM users WHERE id = uid$$;
    CREATE FUNCTION user_ssn(uid int) RETURNS text LANGUAGE sql STABLE AS $$SELECT ssn FROM users WHERE id = uid$$;
    CREATE VIEW users_by_function AS SELECT id, name, user_ssn(id) AS s FROM users;
    CREATE VIEW customers_as_xml AS SELECT holder, table_to_xml('customers'::regclass, true, false, '') AS x FROM customers;
    CREATE PROCEDURE wipe_orders() LANGUAGE sql AS $$DELETE FROM orders$$;
    -- A cursor opened inside the server: the PEP never sees it declared.
    CREATE FUNCTION open_users_cursor(cursor_name text) RETURNS refcursor LANGUAGE plpgsql AS $$
    DECLARE c refcursor := cursor_name;
    BEGIN
      OPEN c FOR SELECT id, name, upper(email) AS e, ssn || '' AS s FROM users ORDER BY id;
      RETURN c;
    END $$;
    -- Side effects through SELECT: a function that deletes, called as a read would be.
    CREATE FUNCTION archive_order(order_id int) RETURNS int LANGUAGE sql AS $$DELETE FROM orders WHERE id = order_id RETURNING id$$;
    CREATE FUNCTION archive_order_text(t text) RETURNS int LANGUAGE sql AS $$DELETE FROM orders WHERE id = 19 RETURNING id$$;
    CREATE FUNCTION archive_order_pair(a int, b int) RETURNS boolean LANGUAGE sql AS $$DELETE FROM orders WHERE id = a RETURNING true$$;
    CREATE OPERATOR ==> (LEFTARG = int, RIGHTARG = int, FUNCTION = archive_order_pair);
    -- A domain whose CHECK deletes: any value given this type runs archive_order.
    CREATE DOMAIN archived_id AS int CHECK (archive_order(VALUE) IS DISTINCT FROM -1);
  `;
}

/**
 * Every fragment of a sensitive value that must never reach a reader: each substring of six
 * characters or more (lower case, since upper() is one of the reads), the same over the value's
 * digits alone (replace(card, ' ', '')), and the hex of each (bytea output). What a mask strategy
 * shows on purpose is left out: `partial` keeps an email's domain (`****@example.org`) and the
 * last four letters or digits of other text, which are shorter than six.
 */
export function forbiddenFragments(): string[] {
  const values: Array<{ value: string; shown?: string }> = [];
  for (const user of [ALICE, BOB]) {
    values.push({ value: user.email, shown: user.email.slice(user.email.indexOf('@')) });
    values.push({ value: user.ssn }, { value: user.phone });
  }
  for (const customer of CUSTOMERS) values.push({ value: customer.card });
  const fragments = new Set<string>();
  for (const { value, shown } of values) {
    const digits = value.replace(/\D/g, '');
    const forms = digits.length >= 6 && digits !== value ? [value, digits] : [value];
    // reverse(email) under a shape-keeping mask would show the reversed local part.
    for (const text of [...forms, ...forms.map((form) => Array.from(form).reverse().join(''))]) {
      for (let start = 0; start + 6 <= text.length; start++) {
        const fragment = text.slice(start, start + 6).toLowerCase();
        if (shown && shown.toLowerCase().includes(fragment)) continue;
        fragments.add(fragment);
        fragments.add(Buffer.from(fragment, 'utf8').toString('hex'));
      }
    }
  }
  return [...fragments];
}

/** How a case reaches the PEP. */
export type Via =
  | 'simple' // node-postgres, simple Query
  | 'extended' // node-postgres, Parse/Bind/Execute, text results
  | 'extended-binary' // node-postgres, Parse/Bind/Execute, binary results
  | 'raw' // a wire-level client, simple Query (COPY TO STDOUT, which drivers do not read)
  | 'psql';

export interface RefusedCase {
  readonly name: string;
  readonly sql: string;
  readonly via: Via;
  readonly values?: readonly unknown[];
  /** Run first, on the same session; its outcome does not matter (PREPARE before EXECUTE). */
  readonly setup?: string;
}

/** Statements the starter policy refuses a `reader` agent on orders-db. */
export function refusedCases(copyFile: string): RefusedCase[] {
  return [
    // plain writes and DDL
    { name: 'DELETE with WHERE', sql: 'DELETE FROM orders WHERE id = 1', via: 'simple' },
    { name: 'DELETE in the extended protocol', sql: 'DELETE FROM orders WHERE id = $1', via: 'extended', values: [1] },
    { name: 'UPDATE of a sensitive column', sql: "UPDATE users SET email = 'owned@evil.test' WHERE id = 1", via: 'simple' },
    { name: 'INSERT', sql: "INSERT INTO orders (item, qty) VALUES ('bypass', 1)", via: 'extended', values: [] },
    { name: 'MERGE … WHEN MATCHED THEN DELETE', sql: 'MERGE INTO orders o USING (SELECT 1 AS id) s ON o.id = s.id WHEN MATCHED THEN DELETE', via: 'simple' },
    { name: 'DROP TABLE', sql: 'DROP TABLE orders', via: 'simple' },
    { name: 'CREATE TABLE', sql: 'CREATE TABLE bypass_created (id int)', via: 'simple' },
    { name: 'TRUNCATE', sql: 'TRUNCATE customers', via: 'simple' },
    { name: 'GRANT', sql: 'GRANT ALL ON users TO PUBLIC', via: 'simple' },
    { name: 'CREATE ROLE', sql: 'CREATE ROLE bypass_role SUPERUSER LOGIN', via: 'simple' },
    { name: 'ALTER SYSTEM', sql: "ALTER SYSTEM SET log_statement = 'none'", via: 'simple' },
    { name: 'VACUUM', sql: 'VACUUM orders', via: 'simple' },
    { name: 'LOCK TABLE', sql: 'LOCK TABLE orders IN ACCESS EXCLUSIVE MODE', via: 'simple' },
    { name: 'CALL of a procedure that deletes', sql: 'CALL wipe_orders()', via: 'simple' },
    // forbidden functions, however spelled
    { name: 'pg_read_file', sql: "SELECT pg_read_file('/etc/passwd')", via: 'simple' },
    { name: 'PG_READ_FILE in upper case', sql: "SELECT PG_READ_FILE('postgresql.conf')", via: 'extended', values: [] },
    { name: 'pg_read_file schema-qualified', sql: "SELECT pg_catalog.pg_read_file('postgresql.conf')", via: 'simple' },
    { name: 'pg_read_file as a quoted identifier', sql: `SELECT "pg_read_file"('postgresql.conf')`, via: 'simple' },
    { name: 'pg_read_file in a FROM clause', sql: "SELECT * FROM pg_read_file('postgresql.conf') AS f(line)", via: 'simple' },
    { name: 'lo_import', sql: "SELECT lo_import('/etc/passwd')", via: 'simple' },
    { name: 'set_config of the role', sql: "SELECT set_config('role', 'postgres', false)", via: 'simple' },
    { name: 'pg_sleep', sql: 'SELECT pg_sleep(30)', via: 'simple' },
    { name: 'query_to_xml running a DELETE', sql: "SELECT query_to_xml('DELETE FROM orders RETURNING *', true, false, '')", via: 'simple' },
    // COPY to and from the server's files or a program
    { name: 'COPY TO a server file', sql: `COPY orders TO '${copyFile}'`, via: 'simple' },
    { name: 'COPY FROM a server file', sql: "COPY orders FROM '/etc/hostname'", via: 'simple' },
    { name: 'COPY TO PROGRAM', sql: `COPY orders TO PROGRAM 'cat > ${copyFile}'`, via: 'simple' },
    { name: 'COPY FROM PROGRAM', sql: "COPY orders FROM PROGRAM 'echo 99'", via: 'simple' },
    { name: 'COPY (DELETE … RETURNING *) TO STDOUT', sql: 'COPY (DELETE FROM orders WHERE id = 10 RETURNING *) TO STDOUT', via: 'raw' },
    { name: 'COPY FROM STDIN', sql: 'COPY orders (item, qty) FROM STDIN', via: 'raw' },
    // code blocks
    { name: 'DO block deleting', sql: 'DO $$BEGIN DELETE FROM orders WHERE id = 2; END$$', via: 'simple' },
    { name: 'DO block raising a notice with an email', sql: "DO $$BEGIN RAISE NOTICE '%', (SELECT email FROM users WHERE id = 1); END$$", via: 'simple' },
    // writable CTEs, EXPLAIN ANALYZE, SELECT INTO, CREATE … AS
    { name: 'writable CTE under a SELECT', sql: 'WITH d AS (DELETE FROM orders WHERE id = 2 RETURNING *) SELECT count(*) FROM d', via: 'simple' },
    { name: 'writable CTE in the extended protocol', sql: 'WITH u AS (UPDATE orders SET qty = 0 WHERE id = $1 RETURNING id) SELECT id FROM u', via: 'extended', values: [3] },
    { name: 'EXPLAIN ANALYZE DELETE', sql: 'EXPLAIN ANALYZE DELETE FROM orders WHERE id = 9', via: 'simple' },
    { name: 'EXPLAIN (ANALYZE, FORMAT JSON) UPDATE', sql: 'EXPLAIN (ANALYZE, FORMAT JSON) UPDATE orders SET qty = 0 WHERE id = 9', via: 'simple' },
    { name: 'SELECT … INTO a new table', sql: 'SELECT * INTO bypass_into FROM users', via: 'simple' },
    { name: 'CREATE TEMP TABLE AS', sql: 'CREATE TEMP TABLE bypass_tmp AS SELECT * FROM users', via: 'simple' },
    { name: 'CREATE MATERIALIZED VIEW', sql: 'CREATE MATERIALIZED VIEW bypass_mv AS SELECT * FROM users', via: 'simple' },
    // identity and parser settings
    { name: 'SET ROLE', sql: 'SET ROLE postgres', via: 'simple' },
    { name: 'SET SESSION AUTHORIZATION', sql: 'SET SESSION AUTHORIZATION postgres', via: 'simple' },
    { name: 'SET search_path', sql: 'SET search_path = pg_temp, public', via: 'simple' },
    { name: 'SET standard_conforming_strings', sql: 'SET standard_conforming_strings = off', via: 'simple' },
    // writes hidden in multi-statement text
    { name: 'a write after a read', sql: 'SELECT 1; DELETE FROM orders WHERE id = 3', via: 'simple' },
    { name: 'a write after a read of users', sql: 'SELECT email FROM users; UPDATE orders SET qty = 0 WHERE id = 3', via: 'simple' },
    { name: 'a write behind a line comment', sql: 'SELECT 1 -- harmless\n; DELETE FROM orders WHERE id = 3', via: 'simple' },
    { name: 'a write inside a transaction block', sql: 'BEGIN; DELETE FROM orders WHERE id = 3; COMMIT', via: 'simple' },
    // comments, quoting, case and escapes
    { name: 'block comment glued to DELETE', sql: '/* read only */DELETE FROM orders WHERE id = 4', via: 'simple' },
    { name: 'nested block comments', sql: '/* a /* b */ c */ DELETE FROM orders WHERE id = 4', via: 'extended', values: [] },
    { name: 'quoted table name', sql: 'DELETE FROM "orders" WHERE id = 5', via: 'simple' },
    { name: 'Unicode-escaped table name', sql: 'DELETE FROM U&"\\006Frders" WHERE id = 5', via: 'simple' },
    { name: 'mixed-case keywords', sql: 'DeLeTe FrOm OrDeRs WhErE iD = 6', via: 'simple' },
    { name: 'dollar-quoted value', sql: 'UPDATE users SET email = $q$owned@evil.test$q$ WHERE id = 1', via: 'simple' },
    { name: 'E-string with hex escapes', sql: "UPDATE users SET email = E'\\x6f\\x77\\x6e' WHERE id = 1", via: 'simple' },
    // With standard_conforming_strings on, a backslash does not escape: the string ends at the
    // second quote and a DELETE follows, which a parser that thought otherwise would miss.
    { name: 'a backslash before a closing quote', sql: "SELECT 'a\\'; DELETE FROM orders WHERE id = 7; --'", via: 'simple' },
    // prepared statements and cursors
    { name: 'PREPARE … AS DELETE; EXECUTE', sql: 'PREPARE bypass_p AS DELETE FROM orders WHERE id = 8; EXECUTE bypass_p', via: 'simple' },
    { name: 'EXECUTE of a DELETE prepared earlier', sql: 'EXECUTE bypass_q', via: 'simple', setup: 'PREPARE bypass_q AS DELETE FROM orders WHERE id = 8' },
    { name: 'DECLARE … CURSOR FOR DELETE', sql: 'BEGIN; DECLARE c CURSOR FOR DELETE FROM orders RETURNING *; FETCH ALL FROM c; COMMIT', via: 'simple' },
    { name: 'DECLARE … CURSOR over a writable CTE', sql: 'BEGIN; DECLARE c CURSOR FOR WITH d AS (DELETE FROM orders WHERE id = 2 RETURNING *) SELECT * FROM d; FETCH ALL FROM c; COMMIT', via: 'simple' },
    { name: 'DECLARE … CURSOR WITH HOLD over a writable CTE', sql: 'DECLARE c CURSOR WITH HOLD FOR WITH u AS (UPDATE orders SET qty = 0 WHERE id = 3 RETURNING id) SELECT id FROM u', via: 'extended', values: [] },
    // psql, as a person at a terminal types them
    { name: 'psql: DELETE', sql: 'DELETE FROM orders WHERE id = 11;', via: 'psql' },
    { name: 'psql: \\copy FROM STDIN', sql: '\\copy orders (item, qty) from stdin\nbypass\t1\n\\.\n', via: 'psql' },
    { name: 'psql: DO block', sql: 'DO $$BEGIN DELETE FROM orders; END$$;', via: 'psql' },
    // side effects through SELECT: a user-defined function is judged like CALL, a locking clause
    // and a built-in that changes state (sequences, advisory locks, large objects …) like a write
    { name: 'SELECT of a function that deletes', sql: 'SELECT archive_order(19)', via: 'simple' },
    { name: 'a function that deletes, in FROM', sql: 'SELECT * FROM archive_order(19) AS a', via: 'extended', values: [] },
    { name: 'a function that deletes, in WHERE', sql: 'SELECT id FROM orders WHERE archive_order(id) IS NOT NULL', via: 'simple' },
    { name: 'a function that deletes, in LATERAL', sql: 'SELECT o.id, a FROM orders o, LATERAL archive_order(o.id) a', via: 'simple' },
    { name: 'a function that deletes, in an aggregate FILTER', sql: 'SELECT count(*) FILTER (WHERE archive_order(id) > 0) FROM orders', via: 'simple' },
    { name: 'a function that deletes, in ORDER BY', sql: 'SELECT id FROM orders ORDER BY archive_order(id)', via: 'simple' },
    { name: 'a function that deletes, in a scalar subquery of a CTE', sql: 'WITH a AS (SELECT (SELECT archive_order(19)) AS x) SELECT * FROM a', via: 'simple' },
    { name: 'a function that deletes, schema-qualified', sql: 'SELECT public.archive_order(19)', via: 'simple' },
    { name: 'a function that deletes, quoted', sql: 'SELECT "archive_order"($1)', via: 'extended', values: [19] },
    { name: 'a function that deletes, under EXPLAIN ANALYZE', sql: 'EXPLAIN ANALYZE SELECT archive_order(19)', via: 'simple' },
    { name: 'a function that deletes, in COPY (query) TO STDOUT', sql: 'COPY (SELECT archive_order(19)) TO STDOUT', via: 'raw' },
    { name: 'a function that deletes, in a cursor', sql: 'BEGIN; DECLARE c CURSOR FOR SELECT archive_order(19); FETCH ALL FROM c; COMMIT', via: 'simple' },
    { name: 'a function that deletes, as a cast-like call', sql: "SELECT archive_order_text('x')", via: 'simple' },
    { name: 'a user-defined operator that deletes', sql: 'SELECT 19 ==> 0', via: 'simple' },
    { name: 'a user-defined operator, OPERATOR() syntax', sql: 'SELECT 19 OPERATOR(public.==>) 0', via: 'simple' },
    { name: 'a cast to a user-defined type', sql: "SELECT '1'::public.mood", via: 'simple' },
    { name: 'a TABLESAMPLE method that is not built in', sql: 'SELECT * FROM orders TABLESAMPLE system_rows(1)', via: 'simple' },
    { name: 'setval', sql: "SELECT setval('orders_id_seq', 1000)", via: 'simple' },
    { name: 'nextval', sql: "SELECT nextval('orders_id_seq')", via: 'extended', values: [] },
    { name: 'lo_creat', sql: 'SELECT lo_creat(-1)', via: 'simple' },
    { name: 'pg_advisory_lock', sql: 'SELECT pg_advisory_lock(42)', via: 'simple' },
    { name: 'pg_try_advisory_xact_lock in WHERE', sql: 'SELECT id FROM orders WHERE pg_try_advisory_xact_lock(id)', via: 'simple' },
    { name: 'pg_logical_emit_message', sql: "SELECT pg_logical_emit_message(true, 'bypass', 'x')", via: 'simple' },
    { name: 'pg_stat_reset', sql: 'SELECT pg_stat_reset()', via: 'simple' },
    { name: 'pg_notify', sql: "SELECT pg_notify('bypass', 'x')", via: 'simple' },
    { name: 'SELECT … FOR UPDATE', sql: 'SELECT * FROM orders FOR UPDATE', via: 'simple' },
    { name: 'SELECT … FOR NO KEY UPDATE SKIP LOCKED (extended)', sql: 'SELECT id FROM orders WHERE id > $1 FOR NO KEY UPDATE SKIP LOCKED', via: 'extended', values: [0] },
    { name: 'SELECT … FOR SHARE in a subquery', sql: 'SELECT count(*) FROM (SELECT id FROM orders FOR SHARE) s', via: 'simple' },
    { name: 'SELECT … FOR KEY SHARE in a CTE', sql: 'WITH l AS (SELECT id FROM orders FOR KEY SHARE) SELECT count(*) FROM l', via: 'simple' },
    { name: 'EXPLAIN ANALYZE of a locking SELECT', sql: 'EXPLAIN ANALYZE SELECT * FROM orders FOR UPDATE', via: 'simple' },
    { name: 'a cursor FOR UPDATE', sql: 'BEGIN; DECLARE c CURSOR FOR SELECT * FROM orders FOR UPDATE; FETCH 1 FROM c; COMMIT', via: 'simple' },
    { name: 'psql: SELECT of a function that deletes', sql: 'SELECT archive_order(19);', via: 'psql' },
    // functions that are not reviewed built-ins, formerly reads
    { name: 'a user function reading users', sql: 'SELECT user_email(id) FROM users', via: 'simple' },
    { name: 'a cursor opened inside a function', sql: "BEGIN; SELECT open_users_cursor('fn_cursor'); FETCH ALL FROM fn_cursor; COMMIT", via: 'simple' },
    { name: 'psql: a user function reading users', sql: 'SELECT user_email(2);', via: 'psql' },
    // settings the PDP's parser depends on, by every route, and settings computed from data
    { name: "UPDATE pg_settings of standard_conforming_strings", sql: "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'", via: 'simple' },
    { name: 'UPDATE pg_settings with an SSN', sql: "UPDATE pg_settings SET setting = (SELECT ssn FROM users WHERE id = 2) WHERE name = 'application_name'", via: 'simple' },
    { name: 'set_config in a CTE', sql: "WITH a AS (SELECT set_config('standard_conforming_strings', 'off', false)) SELECT * FROM a", via: 'simple' },
    { name: 'set_config with a computed name', sql: "SELECT set_config(lower('CLIENT_ENCODING'), 'SJIS', false)", via: 'extended', values: [] },
    { name: 'set_config of application_name to an email', sql: "SELECT set_config('application_name', (SELECT email FROM users WHERE id = 2), false)", via: 'simple' },
    { name: 'SET client_encoding', sql: "SET client_encoding = 'SJIS'", via: 'simple' },
    { name: 'SET NAMES', sql: "SET NAMES 'BIG5'", via: 'simple' },
    { name: 'SET LOCAL standard_conforming_strings', sql: 'BEGIN; SET LOCAL standard_conforming_strings = off; COMMIT', via: 'simple' },
    { name: 'SET standard_conforming_strings TO DEFAULT', sql: 'SET standard_conforming_strings TO DEFAULT', via: 'simple' },
    { name: 'RESET client_encoding', sql: 'RESET client_encoding', via: 'simple' },
    { name: 'ALTER ROLE … SET standard_conforming_strings', sql: 'ALTER ROLE CURRENT_USER SET standard_conforming_strings = off', via: 'simple' },
    { name: 'ALTER ROLE … IN DATABASE … SET client_encoding', sql: "ALTER ROLE CURRENT_USER IN DATABASE postgres SET client_encoding = 'SJIS'", via: 'simple' },
    { name: 'a function with a SET clause', sql: "CREATE FUNCTION bypass_scs() RETURNS int LANGUAGE sql SET standard_conforming_strings = off AS 'SELECT 1'", via: 'simple' },
    { name: 'psql: SET client_encoding', sql: "SET client_encoding TO 'GBK';", via: 'psql' },
    // text PostgreSQL cannot parse: refused as the server would answer it (42601), never forwarded
    { name: 'a syntax error in front of a DELETE', sql: 'SELEC 1; DELETE FROM orders WHERE id = 3', via: 'simple' },
    { name: 'a DELETE behind an unterminated string', sql: "DELETE FROM orders WHERE id = 3; SELECT 'open", via: 'simple' },
    { name: 'an unparseable Parse holding a DELETE', sql: 'DELETE FROM orders WHERE id = $1 RETURNING RETURNING', via: 'extended', values: [3] },
    // a type whose domain CHECK deletes, named for values outside a cast
    { name: 'a domain that deletes, as a column type of a function in FROM', sql: `SELECT * FROM json_to_record('{"a": 19}') AS x(a archived_id)`, via: 'simple' },
    { name: 'a domain that deletes, as an XMLTABLE column type', sql: "SELECT * FROM XMLTABLE('/r' PASSING '<r><a>19</a></r>' COLUMNS a archived_id PATH 'a')", via: 'extended', values: [] },
    { name: 'a domain that deletes, in a cast', sql: "SELECT '19'::archived_id", via: 'simple' },
  ];
}

export interface ReadCase {
  readonly name: string;
  readonly sql: string;
  readonly via: Via;
  readonly values?: readonly unknown[];
  /** The statement may fail (a cast that echoes the value): only what came back is judged. */
  readonly mayFail?: boolean;
  /** Non-sensitive values that must come back unchanged (so masking everything cannot pass). */
  readonly shows?: readonly string[];
}

const NAMES = [ALICE.name, BOB.name];

/** Reads the starter policy allows a `reader` agent, each with sensitive values in its answer. */
export function readCases(): ReadCase[] {
  return [
    { name: 'direct columns', sql: 'SELECT id, name, email, ssn, phone FROM users ORDER BY id', via: 'simple', shows: NAMES },
    { name: 'direct columns (extended)', sql: 'SELECT id, name, email, ssn, phone FROM users WHERE id >= $1 ORDER BY id', via: 'extended', values: [1], shows: NAMES },
    { name: 'direct columns (extended, binary results)', sql: 'SELECT id, name, email, ssn, phone FROM users WHERE id >= $1 ORDER BY id', via: 'extended-binary', values: [1], shows: NAMES },
    { name: 'aliases', sql: 'SELECT email AS contact, ssn AS tax_id, phone AS "Phone" FROM users', via: 'simple' },
    { name: 'SELECT *', sql: 'SELECT * FROM users ORDER BY id', via: 'simple', shows: NAMES },
    { name: 'SELECT * (extended, binary results)', sql: 'SELECT * FROM users ORDER BY id', via: 'extended-binary', values: [], shows: NAMES },
    { name: 'u.*', sql: 'SELECT u.* FROM users u', via: 'simple' },
    { name: 'row_to_json', sql: 'SELECT row_to_json(u) FROM users u', via: 'simple' },
    { name: 'row_to_json (binary results)', sql: 'SELECT row_to_json(u) FROM users u WHERE id > $1', via: 'extended-binary', values: [0] },
    { name: 'to_jsonb of the row', sql: 'SELECT to_jsonb(u)::text FROM users u', via: 'simple' },
    { name: 'json_agg', sql: 'SELECT json_agg(u) FROM users u', via: 'simple' },
    { name: 'array_agg(email)', sql: 'SELECT array_agg(email) FROM users', via: 'simple' },
    { name: 'array_agg(ssn) (binary results)', sql: 'SELECT array_agg(ssn) FROM users WHERE id > $1', via: 'extended-binary', values: [0] },
    { name: 'string_agg', sql: "SELECT string_agg(ssn || '/' || phone, ',') FROM users", via: 'simple' },
    { name: 'email::text', sql: 'SELECT email::text FROM users', via: 'simple' },
    { name: 'upper(email)', sql: 'SELECT upper(email) FROM users', via: 'simple' },
    { name: 'substr(ssn, 1, 11)', sql: 'SELECT substr(ssn, 1, 11) FROM users', via: 'simple' },
    { name: 'concat(email, \'\')', sql: "SELECT concat(email, '') FROM users", via: 'simple' },
    { name: 'format(\'%s\', email)', sql: "SELECT format('%s', email), format('%s', phone) FROM users", via: 'simple' },
    { name: 'ssn as bytea', sql: "SELECT convert_to(ssn, 'UTF8') FROM users", via: 'simple' },
    { name: 'scalar subquery', sql: 'SELECT (SELECT ssn FROM users WHERE id = 2) AS s', via: 'simple' },
    { name: 'FROM subquery', sql: 'SELECT x FROM (SELECT ssn AS x FROM users) s', via: 'simple' },
    { name: 'CTE', sql: 'WITH c AS (SELECT phone AS p FROM users) SELECT * FROM c', via: 'simple' },
    { name: 'UNION with a harmless table, sensitive first', sql: 'SELECT email FROM users UNION ALL SELECT item FROM orders', via: 'simple' },
    { name: 'UNION with a harmless table, harmless first', sql: 'SELECT item FROM orders WHERE id = 1 UNION ALL SELECT ssn FROM users', via: 'simple' },
    { name: 'VALUES join', sql: 'SELECT v.tag, u.phone FROM users u JOIN (VALUES (1, \'a\'), (2, \'b\')) v(id, tag) ON v.id = u.id', via: 'simple' },
    { name: 'CASE expression', sql: "SELECT CASE WHEN id > 0 THEN ssn ELSE 'none' END AS c FROM users", via: 'simple' },
    // A view's columns carry the view's name, which policy does not know: it masks every sensitive
    // column, and the PEP traces each view column to the base columns it is computed from, so
    // names come back in clear. What it cannot trace (a function that is not built in, one that
    // reads a table by name) is redacted whole. A pii-reader sees views in clear (below).
    { name: 'the view', sql: 'SELECT * FROM users_view ORDER BY id', via: 'simple', shows: NAMES },
    { name: 'the view (extended, binary results)', sql: 'SELECT name, email, ssn FROM users_view WHERE id >= $1', via: 'extended-binary', values: [1], shows: NAMES },
    { name: 'the view, aliased', sql: 'SELECT v.ssn AS tax_id, v.email AS contact, v.name FROM users_view AS v', via: 'simple', shows: NAMES },
    { name: 'expressions over the view', sql: "SELECT ssn || '' AS s, upper(email) AS e, name FROM users_view", via: 'simple', shows: NAMES },
    { name: 'row_to_json of the view', sql: 'SELECT row_to_json(v) FROM users_view v', via: 'simple' },
    { name: 'a subquery over the view', sql: 'SELECT x FROM (SELECT ssn AS x FROM users_view) s', via: 'simple' },
    { name: 'the view joined to its table', sql: 'SELECT v.ssn, u.phone, v.name FROM users_view v JOIN users u USING (id)', via: 'extended', values: [], shows: NAMES },
    { name: 'a view over the view', sql: 'SELECT * FROM users_view_nested', via: 'simple', shows: NAMES },
    { name: 'a materialized view', sql: 'SELECT * FROM users_mv ORDER BY id', via: 'simple', shows: NAMES },
    { name: 'a materialized view (binary results)', sql: 'SELECT * FROM users_mv WHERE id >= $1', via: 'extended-binary', values: [1], shows: NAMES },
    { name: 'a view calling a function that reads users', sql: 'SELECT * FROM users_by_function', via: 'simple' },
    { name: 'a view reading a table by name (table_to_xml)', sql: 'SELECT * FROM customers_as_xml', via: 'simple' },
    { name: 'COPY (SELECT * FROM the view) TO STDOUT', sql: 'COPY (SELECT * FROM users_view) TO STDOUT', via: 'raw', shows: NAMES },
    { name: 'COPY (SELECT expressions over a materialized view) TO STDOUT (CSV)', sql: "COPY (SELECT name, phone || '', upper(email) FROM users_mv) TO STDOUT (FORMAT csv)", via: 'raw', shows: NAMES },
    // Cursors: FETCH returns a DECLARE's rows, masked by what the PEP saw declared (strictly when
    // it saw nothing: several statements in one text, a cursor opened inside a function).
    { name: 'a cursor over users', sql: 'BEGIN; DECLARE c CURSOR FOR SELECT name, email, ssn, phone FROM users; FETCH ALL FROM c; COMMIT', via: 'simple', shows: NAMES },
    { name: 'a cursor over expressions and whole rows', sql: "BEGIN; DECLARE c CURSOR FOR SELECT name, upper(email), row_to_json(u), ssn || '' FROM users u; FETCH ALL FROM c; COMMIT", via: 'simple', shows: NAMES },
    { name: 'psql: DECLARE and FETCH one by one', sql: "BEGIN;\nDECLARE c CURSOR FOR SELECT name, upper(email), phone || '', cu.* FROM users, customers cu;\nFETCH 1 FROM c;\nFETCH ALL FROM c;\nCLOSE c;\nCOMMIT;", via: 'psql', shows: NAMES },
    { name: 'psql: FETCH_COUNT', sql: "\\set FETCH_COUNT 1\nSELECT name, upper(email), row_to_json(u), replace(phone, ' ', '') FROM users u;", via: 'psql', shows: NAMES },
    { name: 'cards', sql: 'SELECT id, holder, card_number FROM customers ORDER BY id', via: 'simple', shows: CUSTOMERS.map((c) => c.holder) },
    { name: 'cards without spaces', sql: "SELECT replace(card_number, ' ', '') FROM customers", via: 'simple' },
    { name: 'cards (binary results)', sql: 'SELECT c.* FROM customers c WHERE id >= $1', via: 'extended-binary', values: [1] },
    { name: 'COPY users TO STDOUT', sql: 'COPY users TO STDOUT', via: 'raw', shows: NAMES },
    { name: 'COPY (SELECT * FROM users) TO STDOUT (text)', sql: 'COPY (SELECT * FROM users) TO STDOUT', via: 'raw', shows: NAMES },
    { name: 'COPY (SELECT * FROM users) TO STDOUT (CSV)', sql: 'COPY (SELECT * FROM users) TO STDOUT WITH (FORMAT csv, HEADER)', via: 'raw', shows: NAMES },
    { name: 'COPY customers TO STDOUT (binary)', sql: 'COPY customers TO STDOUT (FORMAT binary)', via: 'raw' },
    { name: 'COPY (SELECT upper(email), ssn) TO STDOUT (CSV)', sql: 'COPY (SELECT upper(email), ssn FROM users) TO STDOUT (FORMAT csv)', via: 'raw' },
    { name: 'error echoing an email (email::int)', sql: 'SELECT email::int FROM users', via: 'simple', mayFail: true },
    { name: 'error echoing an SSN (ssn::uuid)', sql: 'SELECT ssn::uuid FROM users WHERE id = $1', via: 'extended', values: [2], mayFail: true },
    { name: 'error echoing a card (card_number::numeric)', sql: 'SELECT card_number::numeric FROM customers', via: 'simple', mayFail: true },
    { name: 'error echoing a phone (phone::int)', sql: 'SELECT phone::int FROM users WHERE id = 2', via: 'simple', mayFail: true },
    { name: 'psql: SELECT *', sql: 'SELECT * FROM users;', via: 'psql', shows: NAMES },
    { name: 'psql: \\copy (SELECT * FROM users) TO STDOUT CSV', sql: '\\copy (SELECT * FROM users) to stdout with csv', via: 'psql', shows: NAMES },
    { name: 'psql: a view over the view, and the materialized view', sql: 'SELECT * FROM users_view_nested;\nSELECT * FROM users_mv;', via: 'psql', shows: NAMES },
    // side channels: errors and notices of every SQLSTATE class quoting a value of any shape
    { name: 'error: a bare SSN cast to regclass (relation "…" does not exist)', sql: 'SELECT (SELECT ssn FROM users WHERE id = 2)::regclass', via: 'simple', mayFail: true },
    { name: 'error: a bare SSN cast to regclass (extended)', sql: 'SELECT (SELECT ssn FROM users WHERE id = $1)::regclass', via: 'extended', values: [2], mayFail: true },
    { name: 'error: a card number as a setting name', sql: 'SELECT current_setting((SELECT card_number FROM customers WHERE id = 2))', via: 'simple', mayFail: true },
    { name: 'error: a bare phone cast to regtype', sql: 'SELECT (SELECT phone FROM users WHERE id = 2)::regtype', via: 'extended', values: [], mayFail: true },
    { name: 'error: an email cast to regproc', sql: 'SELECT (SELECT email FROM users WHERE id = 2)::regproc', via: 'simple', mayFail: true },
    { name: 'error: an SSN in a JSON parse error\'s context', sql: "SELECT (ssn || ' x')::json FROM users WHERE id = 2", via: 'simple', mayFail: true },
    { name: 'error: a phone in to_date', sql: "SELECT to_date(phone, 'YYYY-MM-DD') FROM users", via: 'extended', values: [], mayFail: true },
    { name: 'error: an SSN in an array literal', sql: "SELECT ('{' || ssn || '}')::int[] FROM users", via: 'simple', mayFail: true },
    { name: 'error: a card in a date', sql: 'SELECT card_number::date FROM customers', via: 'extended-binary', values: [], mayFail: true },
    { name: 'error: an SSN cast to a range', sql: 'SELECT ssn::int4range FROM users WHERE id = 2', via: 'simple', mayFail: true },
    { name: 'error: a bare SSN cast to regclass (COPY)', sql: 'COPY (SELECT ssn::regclass FROM users) TO STDOUT', via: 'raw', mayFail: true },
    { name: 'error: a phone cast to regrole (raw)', sql: 'SELECT phone::regrole FROM users WHERE id = 2', via: 'raw', mayFail: true },
    { name: 'error: an error at FETCH of a cursor', sql: 'BEGIN; DECLARE leak CURSOR FOR SELECT ssn::regclass FROM users; FETCH 2 FROM leak; COMMIT', via: 'simple', mayFail: true },
    { name: 'psql: errors with VERBOSITY verbose', sql: 'SELECT (SELECT ssn FROM users WHERE id = 2)::regclass;\nSELECT current_setting((SELECT card_number FROM customers WHERE id = 1));', via: 'psql', mayFail: true },
    // values computed from a partial column: hidden whole, never partial of the wrong part
    { name: 'reverse(email)', sql: 'SELECT reverse(email), name FROM users ORDER BY id', via: 'simple', shows: NAMES },
    { name: 'reverse(email) (binary results)', sql: 'SELECT reverse(email) AS r FROM users WHERE id >= $1', via: 'extended-binary', values: [1] },
    { name: 'split_part, substr and overlay of email', sql: "SELECT split_part(email, '@', 1), substr(email, 1, 12), overlay(email placing '' from 1 for 1) FROM users", via: 'simple' },
    { name: 'reversed phone and card', sql: "SELECT reverse(u.phone), reverse(c.card_number), reverse(replace(c.card_number, ' ', '')) FROM users u, customers c", via: 'simple' },
    { name: 'reverse through a subquery and a CTE', sql: 'WITH c AS (SELECT reverse(email) AS r FROM users) SELECT r, (SELECT x FROM (SELECT reverse(phone) AS x FROM users LIMIT 1) s) FROM c', via: 'simple' },
    { name: 'reverse over the view', sql: 'SELECT reverse(email), reverse(ssn), name FROM users_view', via: 'simple', shows: NAMES },
    { name: 'COPY (SELECT reverse(email), split_part(…)) TO STDOUT (CSV)', sql: "COPY (SELECT reverse(email), split_part(email, '@', 1), reverse(phone) FROM users) TO STDOUT (FORMAT csv)", via: 'raw' },
    { name: 'psql: reverse(email)', sql: 'SELECT reverse(email), reverse(phone) FROM users;', via: 'psql' },
  ];
}
