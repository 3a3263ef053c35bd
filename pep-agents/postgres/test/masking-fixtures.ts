/**
 * Shared by the masking suites: the seeded `users` table, the obligations a decision gives for
 * it, the PDP's own SQL analyzer for each statement's facts (what the decision answer carries to
 * the PEP), and a driver that runs real server messages through a masker.
 */
import { createMaskStrategyRegistry, parseMaskHashKey, type MaskObligationV1, type MaskStrategyRegistry } from '@portcullis/pep-core';
import type pg from 'pg';
import { createSqlAnalyzer, type SqlAnalyzer } from '@portcullis/pdp';
import type { CatalogResolver } from '../src/masking/catalog-resolver.ts';
import { createResultMasker } from '../src/masking/postgres-result-masker.ts';
import type { CopyOutAwareResultMasker } from '../src/masking/result-masker.ts';
import type { StatementResultFacts } from '../src/masking/statement-result-facts.ts';
import { PgCatalogResolver } from '../src/masking/pg-catalog-resolver.ts';
import type { OpaqueRelations } from '../src/masking/relation-knowledge.ts';
import type { ViewLineageSource } from '../src/masking/view-lineage-resolver.ts';
import { startTestPostgres, type TestPostgres } from './masking-postgres.ts';
import { WireConnection, type BackendMessage } from './masking-wire.ts';

export const SEED = [
  {
    id: 1, name: 'Jane Doe', email: 'jane.doe@example.com', ssn: '123-45-6789', phone: '+1 212-555-0123',
    card: '4111 1111 1111 1111', salary: 95000, badge: '\\xdeadbeef', secret: 'tulip-velvet-42', notes: 'prefers mail',
  },
  {
    id: 2, name: 'Bob Roe', email: 'bob.roe@example.org', ssn: '234-56-7890', phone: '(646) 555-0199',
    card: '5500 0000 0000 0004', salary: 87000, badge: '\\x0102', secret: 'amber-falcon-7',
    notes: 'reach him at bob.personal@example.net or 078-05-1120',
  },
] as const;

/** Every seeded value that must never reach a client whose decision masks the users table. */
export const SENSITIVE_VALUES: string[] = SEED.flatMap((row) => [row.email, row.ssn, row.phone, row.card, row.secret]);
/** Personal data in a column no obligation covers: only the detectors stand between it and the client. */
export const UNLISTED_PII = ['bob.personal@example.net', '078-05-1120'];

/** As a decision gives them for a data file that lists these columns (strategies varied on purpose). */
export const OBLIGATIONS: MaskObligationV1[] = [
  { table: 'users', column: 'email', strategy: 'partial' },
  { table: 'users', column: 'ssn', strategy: 'redact' },
  { table: 'users', column: 'phone', strategy: 'partial' },
  { table: 'public.users', column: 'card', strategy: 'hash' },
  { table: 'users', column: 'salary', strategy: 'redact' },
  { table: 'users', column: 'badge', strategy: 'hash' },
  { table: 'users', column: 'secret', strategy: 'redact' },
];

export const HASH_KEY = parseMaskHashKey('7a'.repeat(32));
export const OTHER_HASH_KEY = parseMaskHashKey('3c'.repeat(32));

export async function seedUsers(client: pg.Client): Promise<void> {
  await client.query(`CREATE TABLE users (
    id int PRIMARY KEY, name text, email text UNIQUE, ssn text, phone text, card text,
    salary int4, badge bytea, secret text, notes text)`);
  for (const row of SEED) {
    await client.query('INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9, $10)', [
      row.id, row.name, row.email, row.ssn, row.phone, row.card, row.salary, row.badge, row.secret, row.notes,
    ]);
  }
}

let analyzer: Promise<SqlAnalyzer> | undefined;

/** The PDP's facts about a one-statement text: its outputs and COPY format. */
export async function statementFacts(sql: string): Promise<StatementResultFacts> {
  analyzer ??= createSqlAnalyzer();
  const analysis = (await analyzer).analyze(sql);
  const statement = analysis.statements[0];
  if (analysis.parse_error !== null || !statement || analysis.statements.length !== 1) throw new Error(`not one statement: ${sql}`);
  return { outputs: statement.outputs, copy_format: statement.copy_format };
}

/** A real server with `users` seeded: an admin connection, one for catalog look-ups, a raw wire client. */
export interface SeededServer {
  readonly postgres: TestPostgres;
  readonly admin: pg.Client;
  readonly catalogConnection: pg.Client;
  readonly wire: WireConnection;
  /** A masker setup whose catalog resolves through `catalogConnection`. */
  readonly setup: MaskerSetup;
  stop(): Promise<void>;
}

export async function startSeededServer(): Promise<SeededServer> {
  const postgres = await startTestPostgres();
  const admin = await postgres.client();
  await seedUsers(admin);
  const catalogConnection = await postgres.client();
  const wire = await WireConnection.open(postgres.socketPath);
  return {
    postgres,
    admin,
    catalogConnection,
    wire,
    setup: { catalog: new PgCatalogResolver(catalogConnection) },
    async stop() {
      wire.close();
      await catalogConnection.end();
      await admin.end();
      await postgres.stop();
    },
  };
}

export interface MaskerSetup {
  readonly catalog: CatalogResolver;
  readonly obligations?: readonly MaskObligationV1[];
  readonly strategies?: MaskStrategyRegistry;
  readonly resultFormats?: readonly number[];
  /** false: the masker gets no statement facts (a PEP without the PDP's provenance). */
  readonly facts?: boolean;
  /** How views and other relations policy cannot name are masked (the masker's default: redact). */
  readonly opaqueRelations?: OpaqueRelations;
  readonly views?: ViewLineageSource;
  /** null: no value detectors (a principal who reads unmasked). */
  readonly scrubber?: null;
  /** The server's errors and notices: withheld (the masker's default) or shown (a principal who reads unmasked). */
  readonly serverText?: 'withhold' | 'show';
}

export async function maskerFor(sql: string, setup: MaskerSetup): Promise<CopyOutAwareResultMasker> {
  return createResultMasker({
    obligations: setup.obligations ?? OBLIGATIONS,
    ...(setup.facts === false ? {} : { statement: await statementFacts(sql) }),
    ...(setup.resultFormats ? { resultFormats: setup.resultFormats } : {}),
    catalog: setup.catalog,
    ...(setup.opaqueRelations ? { opaqueRelations: setup.opaqueRelations } : {}),
    ...(setup.views ? { views: setup.views } : {}),
    ...(setup.scrubber === null ? { scrubber: null } : {}),
    strategies: setup.strategies ?? createMaskStrategyRegistry({ hashKey: HASH_KEY }),
    ...(setup.serverText ? { serverText: setup.serverText } : {}),
  });
}

/** Runs a server's answer through the masker, in order, as the session relays it. */
export async function throughMasker(messages: readonly BackendMessage[], masker: CopyOutAwareResultMasker): Promise<BackendMessage[]> {
  const out: BackendMessage[] = [];
  for (const { type, body } of messages) {
    switch (type) {
      case 'T':
        out.push({ type, body: await masker.onRowDescription(body) });
        break;
      case 'D':
        out.push({ type, body: masker.onDataRow(body) });
        break;
      case 'H':
        out.push({ type, body: await masker.onCopyOutResponse(body) });
        break;
      case 'd':
        out.push({ type, body: masker.onCopyData(body) });
        break;
      case 'E':
      case 'N':
        out.push({ type, body: masker.onErrorOrNotice(body, type) });
        break;
      default:
        out.push({ type, body });
    }
  }
  return out;
}

/** DataRow cells as text (null for NULL). */
export function textRows(messages: readonly BackendMessage[]): Array<Array<string | null>> {
  return dataRows(messages).map((cells) => cells.map((cell) => (cell === null ? null : cell.toString('utf8'))));
}

export function dataRows(messages: readonly BackendMessage[]): Array<Array<Buffer | null>> {
  return messages
    .filter((message) => message.type === 'D')
    .map(({ body }) => {
      const cells: Array<Buffer | null> = [];
      let offset = 2;
      for (let index = 0; index < body.readInt16BE(0); index += 1) {
        const length = body.readInt32BE(offset);
        offset += 4;
        cells.push(length === -1 ? null : body.subarray(offset, offset + length));
        offset += Math.max(length, 0);
      }
      return cells;
    });
}

/** The fields of an ErrorResponse/NoticeResponse body, by code. */
export function noticeFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let offset = 0;
  while (body[offset] !== 0 && offset < body.length) {
    const end = body.indexOf(0, offset + 1);
    fields.set(String.fromCharCode(body[offset] as number), body.toString('utf8', offset + 1, end));
    offset = end + 1;
  }
  return fields;
}

/** Every sensitive value that survived anywhere in these messages' bytes. */
export function survivors(messages: readonly BackendMessage[], values: readonly string[] = SENSITIVE_VALUES): string[] {
  const all = Buffer.concat(messages.map((message) => message.body)).toString('utf8').toLowerCase();
  return values.filter((value) => all.includes(value.toLowerCase()));
}
