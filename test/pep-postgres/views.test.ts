// Views through the Postgres PEP, with real components: PostgreSQL, the PDP with the starter
// policy, the PEP. A reader agent gets a view's non-sensitive columns in clear and its sensitive
// ones masked with their base column's strategy, because policy hands it every sensitive column's
// obligation for a relation it does not know (`mask_complete`) and the PEP traces each view column
// to its base columns (the definition from the catalog, its outputs from POST /v1/sql/outputs).
// A view that cannot be traced is redacted whole, as every view was before; no fragment of a
// seeded sensitive value ever reaches the reader.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { MessageBuilder } from '@portcullis/pep-postgres/testing';
import { ALICE, BOB, forbiddenFragments, seedSql } from './bypass-corpus-fixtures.ts';
import { startPepStack, type PepStack } from './pep-stack.ts';
import { RawClient } from './raw-client.ts';

const FRAGMENTS = forbiddenFragments();
const NAMES = [ALICE.name, BOB.name];
/** Partial masking keeps an email's domain; the rest of it never shows. */
const MASKED_EMAILS = ['****@example.org', '****@example.net'];

/** A definition longer than the PDP's analyzer takes (256 KiB): it cannot be traced. */
const HUGE_LITERAL_BYTES = 300 * 1024;

// Besides the corpus's own (users_view, users_view_nested, the materialized users_mv, and
// users_by_function, which calls user_ssn(id)):
const VIEWS = `
  CREATE VIEW users_public AS SELECT id, name, email FROM users;
  CREATE VIEW users_upper AS SELECT id, upper(email) AS email_upper, name FROM users;
  CREATE VIEW users_nested AS SELECT p.name AS who, p.email AS contact FROM users_public p;
  DO $$BEGIN
    EXECUTE format('CREATE VIEW users_huge AS SELECT id, name, email, %L::text AS pad FROM users', repeat('x', ${HUGE_LITERAL_BYTES}));
  END$$;
  CREATE VIEW users_while_pdp_fails AS SELECT id, name, ssn FROM users;
`;

/** Forwards everything to the PDP, except that POST /v1/sql/outputs fails (500) while `failing`. */
interface PdpProxy {
  url: string;
  failing: boolean;
  outputsCalls: number;
  close(): Promise<void>;
}

async function pdpProxy(target: string): Promise<PdpProxy> {
  const proxy = { failing: false, outputsCalls: 0 } as PdpProxy;
  const server: Server = createServer((incoming, outgoing) => {
    if (incoming.url === '/v1/sql/outputs') {
      proxy.outputsCalls += 1;
      if (proxy.failing) {
        incoming.resume();
        outgoing.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'internal', message: 'internal error' }));
        return;
      }
    }
    const forwarded = httpRequest(new URL(incoming.url ?? '/', target), { method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return proxy;
}

describe('views through the Postgres PEP: traced to their base columns, never a leak', () => {
  let stack: PepStack;
  let proxy: PdpProxy | undefined;
  let reader: string;
  let piiReader: string;

  before(async () => {
    stack = await startPepStack({
      resource: 'orders-db',
      seed: `${seedSql()}\n${VIEWS}`,
      pdpUrlFor: async (url) => (proxy = await pdpProxy(url)).url,
    });
    reader = await stack.token('agent-view-reader', ['reader']);
    piiReader = await stack.token('agent-view-pii', ['reader', 'pii-reader']);
  });
  after(async () => {
    await stack?.close();
    await proxy?.close();
  });

  /** Rows of one simple query, with every byte the client was sent. */
  async function query(token: string, sql: string, options: { values?: unknown[]; binary?: boolean } = {}): Promise<{ rows: Array<Record<string, unknown>>; received: string }> {
    const chunks: Buffer[] = [];
    const socket = new Socket();
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const client = await stack.client(token, { stream: () => socket });
    try {
      const config: pg.QueryConfig = { text: sql, ...(options.values ? { values: options.values } : {}) };
      if (options.values) Object.assign(config, { queryMode: 'extended', binary: options.binary === true });
      const result = await client.query(config);
      return { rows: result.rows as Array<Record<string, unknown>>, received: Buffer.concat(chunks).toString('latin1') };
    } finally {
      await client.end();
    }
  }

  function assertNoLeak(received: string): void {
    const text = received.toLowerCase();
    const found = FRAGMENTS.filter((fragment) => text.includes(fragment));
    assert.deepEqual(found, [], 'no fragment of a seeded sensitive value reached the client');
  }

  it('shows a view\'s name in clear and masks its email with the email\'s strategy (partial)', async () => {
    const { rows, received } = await query(reader, 'SELECT name, email FROM users_public ORDER BY id');
    assert.deepEqual(rows, [
      { name: ALICE.name, email: '****@example.org' },
      { name: BOB.name, email: '****@example.net' },
    ]);
    assertNoLeak(received);
  });

  it('does the same for SELECT * and for aliases of the view and its columns', async () => {
    const star = await query(reader, 'SELECT * FROM users_public ORDER BY id');
    assert.deepEqual(star.rows, [
      { id: 1, name: ALICE.name, email: MASKED_EMAILS[0] },
      { id: 2, name: BOB.name, email: MASKED_EMAILS[1] },
    ]);
    const aliased = await query(reader, 'SELECT p.name AS who, p.email AS contact, p.email AS again FROM users_public AS p ORDER BY p.id');
    assert.deepEqual(aliased.rows.map((row) => [row.who, row.contact, row.again]), [
      [ALICE.name, MASKED_EMAILS[0], MASKED_EMAILS[0]],
      [BOB.name, MASKED_EMAILS[1], MASKED_EMAILS[1]],
    ]);
    assertNoLeak(star.received + aliased.received);
  });

  it('masks a view column computed as upper(email), and an expression over a view column', async () => {
    const computed = await query(reader, 'SELECT email_upper, name FROM users_upper ORDER BY id');
    assert.deepEqual(computed.rows, [
      { email_upper: '****@EXAMPLE.ORG', name: ALICE.name },
      { email_upper: '****@EXAMPLE.NET', name: BOB.name },
    ]);
    const expression = await query(reader, "SELECT lower(u.email_upper) AS e, m.ssn || '' AS s, length(u.name) AS n FROM users_upper u JOIN users_mv m USING (id) ORDER BY id");
    assert.deepEqual(expression.rows, [
      { e: '****@example.org', s: '****', n: ALICE.name.length },
      { e: '****@example.net', s: '****', n: BOB.name.length },
    ]);
    assertNoLeak(computed.received + expression.received);
  });

  it('masks a view over a view, in the simple and the extended protocol (binary results)', async () => {
    const simple = await query(reader, 'SELECT * FROM users_nested ORDER BY who');
    assert.deepEqual(simple.rows, [
      { who: ALICE.name, contact: MASKED_EMAILS[0] },
      { who: BOB.name, contact: MASKED_EMAILS[1] },
    ]);
    const binary = await query(reader, 'SELECT who, contact FROM users_nested WHERE who <> $1 ORDER BY who', { values: ['nobody'], binary: true });
    assert.equal(binary.rows.length, 2);
    assert.ok(binary.received.includes(ALICE.name), 'the name comes back in clear');
    assertNoLeak(simple.received + binary.received);
  });

  it('masks a materialized view', async () => {
    const { rows, received } = await query(reader, 'SELECT name, email, ssn FROM users_mv ORDER BY id');
    assert.deepEqual(rows, [
      { name: ALICE.name, email: MASKED_EMAILS[0], ssn: '****' },
      { name: BOB.name, email: MASKED_EMAILS[1], ssn: '****' },
    ]);
    assertNoLeak(received);
  });

  it('redacts whole a view whose definition the PDP cannot analyze, and says why in the log without values', async () => {
    const { rows, received } = await query(reader, 'SELECT name, email FROM users_huge ORDER BY id');
    assert.deepEqual(rows, [{ name: '****', email: '****' }, { name: '****', email: '****' }]);
    assertNoLeak(received);
    const logged = stack.logs.join('\n');
    assert.match(logged, /public\.users_huge: the PDP's analyzer does not take its definition/);
    assert.ok(!logged.includes('x'.repeat(64)) && !logged.includes(ALICE.email) && !logged.includes(BOB.ssn), 'no definition text or value in the log');
  });

  it('redacts whole a view calling a function that is not built in', async () => {
    const { rows, received } = await query(reader, 'SELECT name, s FROM users_by_function ORDER BY id');
    assert.deepEqual(rows, [{ name: '****', s: '****' }, { name: '****', s: '****' }]);
    assertNoLeak(received);
  });

  it('redacts whole while the PDP endpoint fails, then traces once it answers again', async () => {
    assert.ok(proxy);
    proxy.failing = true;
    const before = proxy.outputsCalls;
    try {
      const failing = await query(reader, 'SELECT name, ssn FROM users_while_pdp_fails ORDER BY id');
      assert.deepEqual(failing.rows, [{ name: '****', ssn: '****' }, { name: '****', ssn: '****' }]);
      assert.ok(proxy.outputsCalls > before, 'the PEP asked the PDP');
      assertNoLeak(failing.received);
    } finally {
      proxy.failing = false;
    }
    // A failure is not kept: the next statement asks again.
    const answered = await query(reader, 'SELECT name, ssn FROM users_while_pdp_fails ORDER BY id');
    assert.deepEqual(answered.rows, [{ name: ALICE.name, ssn: '****' }, { name: BOB.name, ssn: '****' }]);
  });

  it('masks COPY rows of a view (which carry no table OIDs) by the same lineage', async () => {
    const client = await RawClient.login(stack.port, reader);
    try {
      client.send(new MessageBuilder().cstring('COPY (SELECT * FROM users_public ORDER BY id) TO STDOUT').build('Q'));
      const bodies: Buffer[] = [];
      for (;;) {
        const message = await client.next();
        bodies.push(message.body);
        if (message.type === 0x5a) break;
      }
      const received = Buffer.concat(bodies).toString('latin1');
      assert.ok(received.includes(`1\t${ALICE.name}\t${MASKED_EMAILS[0]}\n`), received.slice(0, 200));
      assertNoLeak(received);
    } finally {
      client.destroy();
    }
  });

  it('psql: a view over a view reads like the rest', async () => {
    const result = await stack.psql(reader, 'SELECT * FROM users_nested ORDER BY who;\n', ['-A']);
    assert.equal(result.code, 0, result.stderr);
    for (const name of NAMES) assert.ok(result.stdout.includes(name), result.stdout);
    assertNoLeak(result.stdout + result.stderr);
  });

  it('shows a pii-reader every view in clear, the untraceable ones included', async () => {
    const nested = await query(piiReader, 'SELECT who, contact FROM users_nested ORDER BY who');
    assert.deepEqual(nested.rows, [{ who: ALICE.name, contact: ALICE.email }, { who: BOB.name, contact: BOB.email }]);
    const fn = await query(piiReader, 'SELECT s FROM users_by_function WHERE id = 2');
    assert.deepEqual(fn.rows, [{ s: BOB.ssn }]);
    const mv = await query(piiReader, 'SELECT ssn FROM users_mv WHERE id = 2');
    assert.deepEqual(mv.rows, [{ ssn: BOB.ssn }]);
  });
});
