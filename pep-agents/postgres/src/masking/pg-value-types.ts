/**
 * PostgreSQL type OIDs as the masker must see them: which replacement parses as the column's
 * type, and which values are text that personal data could hide in.
 */
import type { MaskValueType } from '@portcullis/pep-core';

export const PG_TYPE = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  float4: 700,
  float8: 701,
  unknown: 705,
  money: 790,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const VALUE_TYPES: ReadonlyMap<number, MaskValueType> = new Map<number, MaskValueType>([
  [PG_TYPE.int2, 'number'],
  [PG_TYPE.int4, 'number'],
  [PG_TYPE.int8, 'number'],
  [PG_TYPE.oid, 'number'],
  [PG_TYPE.float4, 'number'],
  [PG_TYPE.float8, 'number'],
  [PG_TYPE.numeric, 'number'],
  [PG_TYPE.money, 'number'],
  [PG_TYPE.bool, 'boolean'],
  [PG_TYPE.date, 'date'],
  [PG_TYPE.time, 'time'],
  [PG_TYPE.timetz, 'time'],
  [PG_TYPE.timestamp, 'timestamp'],
  [PG_TYPE.timestamptz, 'timestamptz'],
  [PG_TYPE.uuid, 'uuid'],
  [PG_TYPE.json, 'json'],
  [PG_TYPE.jsonb, 'json'],
  [PG_TYPE.bytea, 'bytes'],
]);

/** Built-in types whose text form is free text. */
const TEXT_TYPES = new Set<number>([PG_TYPE.text, PG_TYPE.varchar, PG_TYPE.bpchar, PG_TYPE.name, PG_TYPE.char, PG_TYPE.unknown, PG_TYPE.xml]);

/** Built-in types whose values cannot spell an e-mail, a phone number or an SSN. */
const NON_TEXTUAL = new Set<number>([
  PG_TYPE.bool, PG_TYPE.int2, PG_TYPE.int4, PG_TYPE.int8, PG_TYPE.oid, PG_TYPE.float4, PG_TYPE.float8, PG_TYPE.numeric,
  PG_TYPE.money, PG_TYPE.date, PG_TYPE.time, PG_TYPE.timetz, PG_TYPE.timestamp, PG_TYPE.timestamptz, PG_TYPE.interval,
  PG_TYPE.uuid, PG_TYPE.bytea, 650 /* cidr */, 829 /* macaddr */, 869 /* inet */, 774 /* macaddr8 */,
]);

/** OIDs from here on are user-defined: domains (often over text), enums, extension types. */
const FIRST_USER_OID = 16384;

/**
 * The type a text-format replacement must parse as; `undefined` when no strategy can produce a
 * valid value of it (arrays, ranges, geometric and network types …): such a cell becomes NULL.
 */
export function textReplacementType(typeOid: number): MaskValueType | undefined {
  const known = VALUE_TYPES.get(typeOid);
  if (known) return known;
  if (TEXT_TYPES.has(typeOid) || typeOid >= FIRST_USER_OID) return 'text';
  return undefined;
}

/** Whether a text-format value of this type is worth running the value detectors on. */
export function mayHoldFreeText(typeOid: number): boolean {
  return !NON_TEXTUAL.has(typeOid);
}

/** Types whose binary form is their text in UTF-8 (jsonb after a version byte). */
export function binaryIsText(typeOid: number): boolean {
  return TEXT_TYPES.has(typeOid) || typeOid === PG_TYPE.json || typeOid === PG_TYPE.jsonb;
}
