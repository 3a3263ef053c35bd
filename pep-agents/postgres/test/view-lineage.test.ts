// A view's columns traced to the base columns they are computed from: the pure mapping
// (view-lineage.ts) over definitions as pg_get_viewdef writes them, read by the PDP's own
// analyzer; and the resolver around it (recursion, depth, caching, failures).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createMaskStrategyRegistry } from '@portcullis/pep-core';
import type { SqlOutputsAnalyzer, SqlOutputsResult } from '../src/masking/sql-outputs-client.ts';
import { selectOutputs } from '@portcullis/pdp';
import { createSqlAnalyzer, type SqlAnalyzer } from '@portcullis/pdp';
import { PortcullisError } from '@portcullis/pdp';
import { MaskObligationIndex } from '../src/masking/mask-obligation-index.ts';
import { strategyForSources } from '../src/masking/provenance-strategy.ts';
import { SessionMaskerFactory } from '../src/masking/session-masker-factory.ts';
import type { RelationKnowledge } from '../src/masking/relation-knowledge.ts';
import { readStatementResultFacts, type StatementOutput } from '../src/masking/statement-result-facts.ts';
import type { ViewDefinition, ViewDefinitionSource, ViewDependency } from '../src/masking/view-definition.ts';
import { traceViewColumns, type ColumnLineage, type ViewLineage } from '../src/masking/view-lineage.ts';
import { ViewLineageResolver } from '../src/masking/view-lineage-resolver.ts';

const USERS: ViewDependency = { oid: 16384, kind: 'r', schema: 'public', name: 'users' };
const CUSTOMERS: ViewDependency = { oid: 16390, kind: 'r', schema: 'sales', name: 'customers' };

let analyzer: SqlAnalyzer;
before(async () => {
  analyzer = await createSqlAnalyzer();
});

/** The PDP's answer for this SQL, as POST /v1/sql/outputs gives it. */
function analyze(sql: string): SqlOutputsResult {
  try {
    const { outputs, functions } = selectOutputs(analyzer, sql);
    return { kind: 'analyzed', outputs: JSON.parse(JSON.stringify(outputs)) as unknown[], functions };
  } catch (error) {
    if (error instanceof PortcullisError) return { kind: 'refused', message: error.message };
    throw error;
  }
}

function outputsOf(sql: string): { outputs: StatementOutput[]; functions: string[] } {
  const result = analyze(sql);
  assert.equal(result.kind, 'analyzed', sql);
  if (result.kind !== 'analyzed') throw new Error('unreachable');
  return { outputs: [...(readStatementResultFacts({ outputs: result.outputs })?.outputs ?? [])], functions: [...result.functions] };
}

function view(oid: number, name: string, sql: string, columns: string[], dependencies: ViewDependency[], extra: Partial<ViewDefinition> = {}): ViewDefinition {
  return {
    oid, schema: 'public', name, kind: 'v', sql,
    columns: columns.map((column, index) => ({ attnum: index + 1, name: column })),
    dependencies, callsUserCode: false, ...extra,
  };
}

function trace(definition: ViewDefinition, lineages: Record<number, ViewLineage> = {}): ViewLineage {
  return traceViewColumns(definition, outputsOf(definition.sql), (oid) => lineages[oid]);
}

/** Each column's lineage by name: base columns as schema.table.column, or why it is opaque. */
function columns(lineage: ViewLineage): Record<string, string[] | string> {
  assert.equal(lineage.kind, 'traced', lineage.kind === 'opaque' ? lineage.reason : '');
  if (lineage.kind !== 'traced') return {};
  return Object.fromEntries([...lineage.columns.values()].map(({ name, lineage: column }) => [name, shown(column)]));
}

function shown(column: ColumnLineage): string[] | string {
  return column.kind === 'opaque' ? `opaque: ${column.reason}` : column.sources.map((source) => `${source.schema}.${source.table}.${source.column}`).sort();
}

const USERS_VIEW = view(20001, 'users_view', ' SELECT users.id,\n    users.name,\n    users.email,\n    users.ssn\n   FROM public.users;', ['id', 'name', 'email', 'ssn'], [USERS]);

describe('tracing a view definition to base columns', () => {
  it('maps each column to the base column it shows, by position', () => {
    assert.deepEqual(columns(trace(USERS_VIEW)), {
      id: ['public.users.id'], name: ['public.users.name'], email: ['public.users.email'], ssn: ['public.users.ssn'],
    });
  });

  it('follows expressions, renamed columns, constants and whole rows', () => {
    const odd = view(20002, 'Odd View', ' SELECT u.id AS "Id",\n    upper(u.email) AS mail,\n    concat(u.name, \'!\') AS n,\n    now() AS t,\n    row_to_json(u.*) AS j\n   FROM public.users u;', ['Id', 'mail', 'n', 't', 'j'], [USERS]);
    assert.deepEqual(columns(trace(odd)), {
      Id: ['public.users.id'], mail: ['public.users.email'], n: ['public.users.name'], t: [], j: ['public.users.*'],
    });
  });

  it('reads a view over a view through the inner view\'s lineage, schema by schema', () => {
    const inner = trace(USERS_VIEW);
    const outer = view(20003, 'v2', ' SELECT v.name AS who,\n    upper(v.email) AS mail,\n    u.phone,\n    c.card_number\n   FROM public.users_view v\n     JOIN public.users u USING (id)\n     JOIN sales.customers c ON c.id = u.id;', ['who', 'mail', 'phone', 'card_number'], [
      USERS, CUSTOMERS, { oid: 20001, kind: 'v', schema: 'public', name: 'users_view' },
    ]);
    assert.deepEqual(columns(trace(outer, { 20001: inner })), {
      who: ['public.users.name'], mail: ['public.users.email'], phone: ['public.users.phone'], card_number: ['sales.customers.card_number'],
    });
    // A whole-row reference to the inner view is every column the inner view shows.
    const rows = view(20004, 'rows', ' SELECT row_to_json(v.*) AS j\n   FROM public.users_view v;', ['j'], [{ oid: 20001, kind: 'v', schema: 'public', name: 'users_view' }]);
    assert.deepEqual(columns(trace(rows, { 20001: inner })), { j: ['public.users.email', 'public.users.id', 'public.users.name', 'public.users.ssn'] });
  });

  it('makes a column opaque when what it reads cannot be placed, and leaves the others traced', () => {
    const mixed = view(20005, 'mixed', ' SELECT u.name,\n    f.srvname\n   FROM public.users u,\n    public.remote f;', ['name', 'srvname'], [
      USERS, { oid: 20010, kind: 'f', schema: 'public', name: 'remote' },
    ]);
    assert.deepEqual(columns(trace(mixed)), { name: ['public.users.name'], srvname: 'opaque: it reads remote, whose columns policy cannot name (relkind f)' });

    const overSystem = view(20006, 'sys', ' SELECT s.usename,\n    u.name\n   FROM pg_stat_activity s,\n    public.users u;', ['usename', 'name'], [
      USERS, { oid: 12000, kind: 'v', schema: 'pg_catalog', name: 'pg_stat_activity' },
    ]);
    assert.deepEqual(columns(trace(overSystem)), { usename: 'opaque: it reads the system relation pg_stat_activity', name: ['public.users.name'] });

    const overOpaque = view(20007, 'over', ' SELECT v.e,\n    v.id\n   FROM public.vf v;', ['e', 'id'], [{ oid: 20008, kind: 'v', schema: 'public', name: 'vf' }]);
    const opaqueInner: ViewLineage = { kind: 'opaque', oid: 20008, reason: 'it calls a function or operator that is not built in', provisional: false };
    assert.deepEqual(columns(trace(overOpaque, { 20008: opaqueInner })), {
      e: 'opaque: it reads the view vf, which cannot be traced', id: 'opaque: it reads the view vf, which cannot be traced',
    });
    // Not resolved at all (a failure): opaque, and provisional so nobody keeps it.
    const unresolved = trace(overOpaque);
    assert.equal(unresolved.provisional, true);
  });

  it('makes the whole view opaque when its definition is doubtful', () => {
    const opaque = (lineage: ViewLineage) => (lineage.kind === 'opaque' ? lineage.reason : 'traced');
    assert.equal(opaque(trace({ ...USERS_VIEW, callsUserCode: true })), 'it calls a function or operator that is not built in');
    const xml = view(20011, 'x', " SELECT table_to_xml('users'::regclass, true, false, ''::text) AS x,\n    users.name\n   FROM public.users;", ['x', 'name'], [USERS]);
    assert.equal(opaque(trace(xml)), 'it calls table_to_xml, which reads data its arguments do not show');
    const activity = view(20012, 'a', ' SELECT s.pid\n   FROM pg_stat_get_activity(NULL::integer) s(datid, pid);', ['pid'], []);
    assert.match(opaque(trace(activity)), /pg_stat_get_activity/);
    // A column added (CREATE OR REPLACE VIEW) or renamed since: the definition does not line up.
    assert.equal(opaque(trace({ ...USERS_VIEW, columns: [...USERS_VIEW.columns, { attnum: 5, name: 'phone' }] })), 'its definition does not line up with its columns');
    assert.equal(opaque(trace({ ...USERS_VIEW, columns: USERS_VIEW.columns.map((c) => (c.attnum === 3 ? { ...c, name: 'contact' } : c)) })), 'its definition does not line up with its columns');
    // A relation the definition names that the view does not depend on.
    assert.deepEqual(columns(trace({ ...USERS_VIEW, dependencies: [] })).email, 'opaque: it reads users, which is not among the relations it depends on');
  });
});

describe('the strategy of an expression computed from a view (provenance names)', () => {
  const obligations = new MaskObligationIndex([
    { table: 'users', column: 'email', strategy: 'partial' },
    { table: 'users', column: 'ssn', strategy: 'redact' },
  ]);
  const knowledge = (): RelationKnowledge => ({
    tables: new Map(),
    viewsByName: new Map([['users_view', [20001]]]),
    lineages: new Map([[20001, trace(USERS_VIEW)]]),
  });

  it('is the strictest obligation of the base columns when views are traced', () => {
    const context = { obligations, knowledge: knowledge(), opaqueRelations: 'trace' as const };
    // The value of the view's email column as is (users_view.email, email::text) keeps partial …
    assert.equal(strategyForSources([{ table: 'users_view', column: 'email' }], context, false), 'partial');
    // … anything computed from it (reverse(v.email), split_part(v.email, '@', 1)) is hidden whole.
    assert.equal(strategyForSources([{ table: 'users_view', column: 'email' }], context), 'redact');
    assert.equal(strategyForSources([{ table: 'users_view', column: 'name' }], context), undefined);
    assert.equal(strategyForSources([{ table: 'users_view', column: 'email' }, { table: 'users_view', column: 'ssn' }], context), 'redact');
    assert.equal(strategyForSources([{ table: 'users_view', column: '*' }, { table: 'users_view', column: 'users_view' }], context), 'redact');
    assert.equal(strategyForSources([{ table: 'orders', column: 'item' }], context), undefined);
  });

  it('is redact when views are not traced, the view is opaque, or names could not be checked', () => {
    assert.equal(strategyForSources([{ table: 'users_view', column: 'name' }], { obligations: new MaskObligationIndex([]), knowledge: knowledge(), opaqueRelations: 'redact' }), 'redact');
    const opaque = { ...knowledge(), lineages: new Map<number, ViewLineage>([[20001, { kind: 'opaque', oid: 20001, reason: 'x', provisional: false }]]) };
    assert.equal(strategyForSources([{ table: 'users_view', column: 'name' }], { obligations, knowledge: opaque, opaqueRelations: 'trace' }), 'redact');
    assert.equal(strategyForSources([{ table: 'orders', column: 'item' }], { obligations, knowledge: { ...knowledge(), viewsByName: undefined }, opaqueRelations: 'trace' }), 'redact');
    // In clear for a principal who reads unmasked.
    assert.equal(strategyForSources([{ table: 'users_view', column: 'email' }], { obligations: new MaskObligationIndex([]), knowledge: knowledge(), opaqueRelations: 'show' }), undefined);
  });
});

describe('the view lineage resolver', () => {
  const V2 = view(20003, 'v2', ' SELECT v.name AS who,\n    upper(v.email) AS mail\n   FROM public.users_view v;', ['who', 'mail'], [{ oid: 20001, kind: 'v', schema: 'public', name: 'users_view' }]);

  class Definitions implements ViewDefinitionSource {
    loads = 0;
    failing = false;
    constructor(private readonly views: Map<number, ViewDefinition>) {}
    async definitionOf(oid: number): Promise<ViewDefinition | undefined> {
      this.loads += 1;
      if (this.failing) throw new Error('catalog down');
      return this.views.get(oid);
    }
    async viewsNamed(names: readonly string[]): Promise<ReadonlyMap<string, readonly number[]>> {
      if (this.failing) throw new Error('catalog down');
      return new Map([...this.views.values()].filter((v) => names.includes(v.name.toLowerCase())).map((v) => [v.name.toLowerCase(), [v.oid]]));
    }
  }

  class Analyzer implements SqlOutputsAnalyzer {
    calls = 0;
    unavailable = false;
    async outputsOf(sql: string): Promise<SqlOutputsResult> {
      this.calls += 1;
      return this.unavailable ? { kind: 'unavailable', code: 'pdp-unreachable', detail: 'down' } : analyze(sql);
    }
  }

  const setup = (views: ViewDefinition[], options: { maxDepth?: number } = {}) => {
    let now = 1_000;
    const definitions = new Definitions(new Map(views.map((v) => [v.oid, v])));
    const pdp = new Analyzer();
    const logs: string[] = [];
    const resolver = new ViewLineageResolver(definitions, pdp, { ttlMs: 60_000, now: () => now, log: (m) => logs.push(m), ...options });
    return { definitions, pdp, resolver, logs, advance: (ms: number) => (now += ms) };
  };

  it('resolves a view over a view once, keeps it for the TTL, and asks again after', async () => {
    const { pdp, resolver, advance } = setup([USERS_VIEW, V2]);
    assert.deepEqual(columns(await resolver.lineageOf(20003)), { who: ['public.users.name'], mail: ['public.users.email'] });
    assert.equal(pdp.calls, 2, 'both definitions analyzed');
    assert.ok(resolver.cachedLineageOf(20003) && resolver.cachedLineageOf(20001), 'both kept');
    await Promise.all([resolver.lineageOf(20003), resolver.lineageOf(20001)]);
    assert.equal(pdp.calls, 2, 'kept answers are not asked again');
    advance(60_001);
    assert.equal(resolver.cachedLineageOf(20003), undefined);
    await resolver.lineageOf(20003);
    assert.equal(pdp.calls, 4);
  });

  it('shares one look-up between concurrent statements', async () => {
    const { pdp, resolver } = setup([USERS_VIEW]);
    await Promise.all([resolver.lineageOf(20001), resolver.lineageOf(20001), resolver.lineageOf(20001)]);
    assert.equal(pdp.calls, 1);
  });

  it('makes a view opaque beyond the depth bound, without keeping the cut answer', async () => {
    const { resolver } = setup([USERS_VIEW, V2], { maxDepth: 1 });
    const lineage = await resolver.lineageOf(20003);
    assert.deepEqual(columns(lineage), { who: 'opaque: it reads the view users_view, which cannot be traced', mail: 'opaque: it reads the view users_view, which cannot be traced' });
    assert.equal(lineage.provisional, true);
    assert.equal(resolver.cachedLineageOf(20003), undefined);
    assert.ok(resolver.cachedLineageOf(20001) === undefined, 'the inner view was never loaded past the bound');
  });

  it('makes a view opaque while the PDP or the catalog is away, and tries again next time', async () => {
    const { pdp, definitions, resolver, logs } = setup([USERS_VIEW]);
    pdp.unavailable = true;
    const away = await resolver.lineageOf(20001);
    assert.equal(away.kind, 'opaque');
    assert.equal(resolver.cachedLineageOf(20001), undefined);
    assert.match(logs.join('\n'), /public\.users_view: the PDP could not analyze it \(pdp-unreachable\)/);
    pdp.unavailable = false;
    definitions.failing = true;
    assert.equal((await resolver.lineageOf(20001)).kind, 'opaque');
    await assert.rejects(resolver.viewsNamed(['users_view']));
    definitions.failing = false;
    assert.equal((await resolver.lineageOf(20001)).kind, 'traced');
  });

  it('keeps a definition the PDP refuses as opaque (asking again would not help)', async () => {
    const refused = view(20020, 'weird', 'SELECT 1; SELECT 2', ['a'], []);
    const { pdp, resolver } = setup([refused]);
    const lineage = await resolver.lineageOf(20020);
    assert.equal(lineage.kind, 'opaque');
    assert.match(lineage.kind === 'opaque' ? lineage.reason : '', /does not take its definition/);
    await resolver.lineageOf(20020);
    assert.equal(pdp.calls, 1);
  });

  it('never traces a system view, and forgets everything when definitions may have changed', async () => {
    const { pdp, resolver } = setup([USERS_VIEW]);
    const system = await resolver.lineageOf(12050);
    assert.equal(system.kind === 'opaque' ? system.reason : '', 'it is a system view');
    assert.equal(pdp.calls, 0);
    await resolver.lineageOf(20001);
    assert.deepEqual([...(await resolver.viewsNamed(['USERS_VIEW', 'orders'])).entries()], [['users_view', [20001]], ['orders', []]]);
    assert.ok(resolver.cachedViewsNamed(['users_view', 'orders']));
    resolver.forget();
    assert.equal(resolver.cachedLineageOf(20001), undefined);
    assert.equal(resolver.cachedViewsNamed(['users_view']), undefined);
  });
});

describe('a session drops what is kept about views when definitions may have changed', () => {
  it('forgets on DDL, DO and CALL at once, and again when the transaction ends', () => {
    let forgotten = 0;
    const views = {
      lineageOf: async (oid: number): Promise<ViewLineage> => ({ kind: 'opaque', oid, reason: 'unused', provisional: false }),
      cachedLineageOf: () => undefined,
      viewsNamed: async () => new Map<string, readonly number[]>(),
      cachedViewsNamed: () => undefined,
      forget: () => void (forgotten += 1),
    };
    const catalog = { tablesByOid: async () => new Map(), tableByName: async () => undefined };
    const factory = new SessionMaskerFactory({ catalog, views, strategies: createMaskStrategyRegistry() });
    const masker = () => factory.create({ obligations: [], statement: { sql: 'x', decisionId: 'd', protocol: 'simple', resultFormats: [] } });
    masker().onCommandComplete?.('SELECT 2');
    masker().onCommandComplete?.('COMMIT');
    factory.transactionEnded();
    assert.equal(forgotten, 0, 'reads and commits keep what is known');
    masker().onCommandComplete?.('CREATE VIEW');
    assert.equal(forgotten, 1);
    factory.transactionEnded();
    assert.equal(forgotten, 2, 'once more when the DDL is committed');
    factory.transactionEnded();
    for (const tag of ['ALTER VIEW', 'DROP MATERIALIZED VIEW', 'DO', 'CALL']) masker().onCommandComplete?.(tag);
    assert.equal(forgotten, 6);
  });
});

describe('a view column computed from its base column is told apart from the column as is', () => {
  const transformedOf = (lineage: ViewLineage): Record<string, boolean | string> => {
    assert.equal(lineage.kind, 'traced');
    if (lineage.kind !== 'traced') return {};
    return Object.fromEntries([...lineage.columns.values()].map(({ name, lineage: column }) => [name, column.kind === 'traced' ? column.transformed : 'opaque']));
  };
  const computedView = view(
    20030, 'users_computed',
    " SELECT users.email,\n    upper(users.email) AS shouted,\n    (users.email)::text AS t,\n    reverse(users.email) AS backwards,\n    split_part(users.email, '@'::text, 1) AS local_part,\n    (users.email || ''::text) AS glued\n   FROM public.users;",
    ['email', 'shouted', 't', 'backwards', 'local_part', 'glued'], [USERS],
  );

  it('marks every computed column transformed, the value as is (cast, case folding) not', () => {
    assert.deepEqual(transformedOf(trace(computedView)), { email: false, shouted: false, t: false, backwards: true, local_part: true, glued: true });
  });

  it('a view over it inherits transformed, and masks by it: partial only for the value as is', () => {
    const inner = trace(computedView);
    const outer = view(20031, 'users_computed_again', ' SELECT v.email AS contact,\n    v.backwards,\n    lower(v.shouted) AS l\n   FROM public.users_computed v;', ['contact', 'backwards', 'l'], [{ oid: 20030, kind: 'v', schema: 'public', name: 'users_computed' }]);
    assert.deepEqual(transformedOf(trace(outer, { 20030: inner })), { contact: false, backwards: true, l: false });
    const obligations = new MaskObligationIndex([{ table: 'users', column: 'email', strategy: 'partial' }]);
    const knowledge: RelationKnowledge = { tables: new Map(), viewsByName: new Map([['users_computed', [20030]]]), lineages: new Map([[20030, inner]]) };
    const context = { obligations, knowledge, opaqueRelations: 'trace' as const };
    assert.equal(strategyForSources([{ table: 'users_computed', column: 'email' }], context, false), 'partial');
    assert.equal(strategyForSources([{ table: 'users_computed', column: 'backwards' }], context, false), 'redact');
    assert.equal(strategyForSources([{ table: 'users_computed', column: 'shouted' }], context, false), 'partial');
    // hash hides all of a value already: it stays hash for a computed value.
    const hashed = { ...context, obligations: new MaskObligationIndex([{ table: 'users', column: 'email', strategy: 'hash' }]) };
    assert.equal(strategyForSources([{ table: 'users_computed', column: 'backwards' }], hashed), 'hash');
  });
});

describe('computed_strategy: what policy asks for values computed from a column', () => {
  const context = (obligations: MaskObligationIndex) => ({ obligations, knowledge: { tables: new Map(), viewsByName: new Map(), lineages: new Map() } as RelationKnowledge, opaqueRelations: 'trace' as const });
  const email = [{ table: 'users', column: 'email' }];

  it('applies a computed_strategy that hides the whole value, to computed values only', () => {
    const hashed = context(new MaskObligationIndex([{ table: 'users', column: 'email', strategy: 'partial', computed_strategy: 'hash' }]));
    assert.equal(strategyForSources(email, hashed, false), 'partial');
    assert.equal(strategyForSources(email, hashed, true), 'hash');
  });

  it('never keeps part of a computed value, nor shows more of it than of the column itself', () => {
    const partialAsked = context(new MaskObligationIndex([{ table: 'users', column: 'email', strategy: 'partial', computed_strategy: 'partial' }]));
    assert.equal(strategyForSources(email, partialAsked, true), 'redact');
    const weaker = context(new MaskObligationIndex([{ table: 'users', column: 'email', strategy: 'redact', computed_strategy: 'hash' }]));
    assert.equal(strategyForSources(email, weaker, true), 'redact');
    const none = context(new MaskObligationIndex([{ table: 'users', column: 'email', strategy: 'partial' }]));
    assert.equal(strategyForSources(email, none, true), 'redact');
  });
});
