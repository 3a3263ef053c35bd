import { Type, type Static } from '@sinclair/typebox';
import { Name } from './decision-request-v1.ts';

/**
 * `POST /v1/sql/outputs` (role `pep`): the output provenance of one SELECT, as a decision's
 * enrichment gives it, for SQL a PEP found outside any decision (a view's definition). An
 * analysis, not a decision: no policy is evaluated and nothing is audited.
 */
export const SqlOutputsRequestV1 = Type.Object(
  {
    /** Where the SQL comes from: the PDP refuses (403) a resource the PEP's credential does not front. */
    resource: Type.Optional(Type.Object({ type: Name(), name: Name() }, { description: 'Where the SQL comes from: a resource the PEP does not front is a 403' })),
    sql: Type.String({ minLength: 1 }),
  },
  { $id: 'SqlOutputsRequestV1' },
);
export type SqlOutputsRequestV1 = Static<typeof SqlOutputsRequestV1>;

export const SqlOutputsResponseV1 = Type.Object(
  {
    /** One entry per result column, in order: `name`, `star`, `star_table`, `direct`, `derived_from`. */
    outputs: Type.Array(Type.Unknown(), { description: 'One entry per result column, in order: name, star, star_table, direct, derived_from' }),
    /** Every function the statement calls anywhere, lower case, schema dropped. */
    functions: Type.Array(Type.String(), { description: 'Every function the statement calls anywhere, lower case, schema dropped' }),
  },
  { $id: 'SqlOutputsResponseV1' },
);
export type SqlOutputsResponseV1 = Static<typeof SqlOutputsResponseV1>;
