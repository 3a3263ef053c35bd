import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMaskStrategyRegistry, type MaskObligationV1 } from '@portcullis/pep-core';
import type pg from 'pg';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { PgCatalogResolver } from '../src/masking/pg-catalog-resolver.ts';
import { createResultMasker } from '../src/masking/postgres-result-masker.ts';
import { readStatementResultFacts } from '../src/masking/statement-result-facts.ts';
import {
  SEED,
  survivors,
  textRows,
  throughMasker,
  startSeededServer,
  type SeededServer,
} from './masking-fixtures.ts';
import type { WireConnection } from './masking-wire.ts';

/**
 * The whole chain with the starter policy pack: a real decision's obligations (users.email,
 * users.ssn, users.phone for a reader) and provenance (the answer's `enrichment`), a real
 * server's bytes.
 */
describe('masking under real PDP decisions', () => {
  let pdp: TestPdp;
  let catalogConnection: pg.Client;
  let wire: WireConnection;
  let reader: string;
  let piiReader: string;
  let server: SeededServer;

  before(async () => {
    pdp = await startTestPdp();
    reader = await pdp.token({ sub: 'agent-reader', roles: ['reader'] });
    piiReader = await pdp.token({ sub: 'agent-pii', roles: ['reader', 'pii-reader'] });
    server = await startSeededServer();
    ({ catalogConnection, wire } = server);
  });
  after(async () => {
    await server?.stop();
    await pdp?.close();
  });

  async function decideAndRun(subject: string, sql: string, options: { detectors?: boolean } = {}) {
    const answer = await pdp.decide({
      subject_token: subject,
      resource: { type: 'postgres', name: 'orders-db', environment: 'production' },
      action: { type: 'sql', sql },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.effect, 'allow', JSON.stringify(answer.body.reasons));
    const obligations = (answer.body.obligations as { mask: MaskObligationV1[] }).mask;
    // The answer carries the PDP's provenance for each statement: the PEP parses nothing.
    const enrichment = answer.body.enrichment as { statements: unknown[] };
    assert.equal(enrichment.statements.length, 1);
    const statement = readStatementResultFacts(enrichment.statements[0]);
    assert.ok(statement?.outputs, 'the answer describes the result columns');
    const masker = createResultMasker({
      obligations,
      statement,
      catalog: new PgCatalogResolver(catalogConnection),
      strategies: createMaskStrategyRegistry(),
      ...(options.detectors === false ? { scrubber: null } : {}),
    });
    return { obligations, messages: await throughMasker(await wire.simpleQuery(sql), masker) };
  }

  const policyPii = SEED.flatMap((row) => [row.email, row.ssn, row.phone]);

  it('SELECT * for a reader: the policy-sensitive columns are masked, the card number is caught by its shape', async () => {
    const { obligations, messages } = await decideAndRun(reader, 'SELECT * FROM users ORDER BY id');
    assert.deepEqual(obligations.map((o) => `${o.table}.${o.column}:${o.strategy}`).sort(), [
      'users.email:partial',
      'users.phone:partial',
      'users.ssn:redact',
    ]);
    const [jane] = textRows(messages);
    assert.deepEqual(jane?.slice(0, 6), ['1', 'Jane Doe', '****@example.com', '****', '+* ***-***-0123', '<CREDIT_CARD>']);
    assert.deepEqual(survivors(messages, policyPii), []);
  });

  it('expressions and whole rows for a reader: masked by the provenance the PDP computed', async () => {
    const { messages } = await decideAndRun(reader, "SELECT upper(email) AS e, phone || '' AS p, row_to_json(u) AS j, name FROM users u ORDER BY id");
    const [jane] = textRows(messages);
    // upper(email) is the value in another case (partial keeps the domain); phone || '' is computed from it (hidden whole).
    assert.deepEqual(jane, ['****@EXAMPLE.COM', '****', '"****"', 'Jane Doe']);
    assert.deepEqual(survivors(messages, policyPii), []);
  });

  it('a pii-reader gets no obligations; with the detectors off for that session the values arrive as stored', async () => {
    const sql = 'SELECT email, ssn FROM users ORDER BY id';
    const { obligations, messages } = await decideAndRun(piiReader, sql, { detectors: false });
    assert.deepEqual(obligations, []);
    assert.deepEqual(textRows(messages), [
      [SEED[0].email, SEED[0].ssn],
      [SEED[1].email, SEED[1].ssn],
    ]);
    // With the detectors on (the default), the shapes would still be caught: the session decides.
    const detected = await decideAndRun(piiReader, sql);
    assert.deepEqual(textRows(detected.messages)[0], ['<EMAIL_ADDRESS>', '<US_SSN>']);
  });
});
