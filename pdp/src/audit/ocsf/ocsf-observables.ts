import { asArray, asObject, asString, fieldAt, type JsonObject } from '../json-fields.ts';

/**
 * OCSF `observables`: the values a SIEM pivots on (who, from where, on what), each named by its
 * attribute path in the record. Type ids are the OCSF 1.8.0 observable types of those attributes
 * (dictionary.json types and attributes, objects/*.json). `type` is left out: the id says it.
 */

// Path in the record → observable type_id.
const SCALAR_OBSERVABLES: ReadonlyArray<readonly [path: string, typeId: number]> = [
  ['actor.user.name', 4], // User Name (username_t)
  ['actor.user.uid', 31], // User UID
  ['user.name', 4],
  ['user.uid', 31],
  ['src_endpoint.ip', 2], // IP Address (ip_t)
  ['src_endpoint.hostname', 1], // Hostname (hostname_t)
  ['dst_endpoint.ip', 2],
  ['dst_endpoint.hostname', 1],
  ['device.hostname', 1],
  ['process.name', 9], // Process Name (process_name_t)
  ['process.cmd_line', 13], // Command Line
  ['http_request.url.url_string', 6], // URL String (url_t)
  ['database.name', 38], // Resource Name: the database is the resource the command targets
];

// A command longer than this is already in the record (the command attribute): a second copy
// would only grow the record toward the message size limits of the streams.
const MAX_OBSERVABLE_CHARS = 4096;

export interface OcsfObservable {
  readonly name: string;
  readonly type_id: number;
  readonly value: string;
}

/** The observables of a mapped record (its OCSF attributes, `unmapped` is not read). */
export function observablesOf(record: JsonObject): OcsfObservable[] {
  const found: OcsfObservable[] = [];
  const add = (name: string, typeId: number, value: unknown): void => {
    if (typeof value === 'string' && value !== '' && value.length <= MAX_OBSERVABLE_CHARS) found.push({ name, type_id: typeId, value });
  };
  for (const [path, typeId] of SCALAR_OBSERVABLES) add(path, typeId, fieldAt(record, ...path.split('.')));
  asArray(record.resources).forEach((resource, index) => add(`resources[${index}].name`, 38, asString(asObject(resource)?.name)));
  return found;
}
