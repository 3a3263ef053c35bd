/**
 * Reads the OCSF schema's own source files (an ocsf-schema checkout: dictionary.json,
 * categories.json, events/, objects/, profiles/) into classes and objects with their attributes
 * resolved: `$include`d files and profiles merged, `extends` followed, types taken from the
 * dictionary. Enough to ask "does class X define attribute a, of which type, is it required?".
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

type Json = Record<string, any>;

export interface OcsfAttribute {
  readonly name: string;
  /** A dictionary type (string_t, integer_t, timestamp_t …) or, for objects, "object_t". */
  readonly type: string;
  /** The primitive under a dictionary type: string_t, integer_t, long_t, float_t, boolean_t, json_t, object_t. */
  readonly primitive: string;
  /** The object's name when type is object_t. */
  readonly objectType?: string;
  readonly isArray: boolean;
  readonly requirement: 'required' | 'recommended' | 'optional';
  /** Profiles that bring the attribute in (absent: always there). */
  readonly profiles?: readonly string[];
}

export interface OcsfItem {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, OcsfAttribute>;
}

export interface OcsfSchema {
  readonly version: string;
  /** Classes by class_uid (category uid × 1000 + the class's own uid; base_event is 0). */
  readonly classes: ReadonlyMap<number, OcsfItem>;
  readonly objects: ReadonlyMap<string, OcsfItem>;
}

const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

export function readOcsfSchema(dir: string): OcsfSchema {
  const dictionary = readJson(join(dir, 'dictionary.json'));
  const types: Json = dictionary.types.attributes;
  const dictionaryAttributes: Json = dictionary.attributes;
  const categories: Json = readJson(join(dir, 'categories.json')).attributes;

  const byName = (files: string[]): Map<string, Json> => new Map(files.map((file) => readJson(file)).map((item) => [item.name as string, item]));
  const events = byName(jsonFiles(join(dir, 'events')));
  const objects = byName(jsonFiles(join(dir, 'objects')));

  // An item's own attributes: its $include'd files first (a profile's attributes tagged with it), then its own.
  const ownAttributes = (item: Json): Map<string, Json> => {
    const result = new Map<string, Json>();
    const declared: Json = item.attributes ?? {};
    const includes = declared.$include === undefined ? [] : [declared.$include].flat() as string[];
    for (const file of includes) {
      const included = readJson(join(dir, file));
      for (const [name, attribute] of Object.entries<Json>(included.attributes ?? {})) {
        result.set(name, { ...attribute, ...(included.meta === 'profile' ? { profiles: [included.name] } : {}) });
      }
    }
    for (const [name, attribute] of Object.entries<Json>(declared)) {
      if (name === '$include') continue;
      const detail: Json = attribute.$include ? { ...readJson(join(dir, attribute.$include)), ...attribute } : { ...attribute };
      // `"profile": null` makes an attribute a profile brought in the class's own, `"profile": "x"` gates it.
      if ('profile' in detail) detail.profiles = detail.profile === null ? null : [detail.profile];
      result.set(name, { ...result.get(name), ...detail });
    }
    return result;
  };

  // Follows `extends`: the parent's resolved attributes, overridden member by member by the child's.
  const resolved = new Map<Json, Map<string, Json>>();
  const resolve = (item: Json, all: Map<string, Json>): Map<string, Json> => {
    const known = resolved.get(item);
    if (known) return known;
    const parent = item.extends ? all.get(item.extends) : undefined;
    if (item.extends && !parent) throw new Error(`${item.name} extends ${item.extends}, which the schema does not define`);
    const attributes = new Map(parent ? resolve(parent, all) : []);
    for (const [name, attribute] of ownAttributes(item)) attributes.set(name, { ...attributes.get(name), ...attribute });
    resolved.set(item, attributes);
    return attributes;
  };

  const typed = (name: string, attribute: Json): OcsfAttribute => {
    const entry: Json = { ...dictionaryAttributes[name], ...attribute };
    if (!dictionaryAttributes[name]) throw new Error(`attribute ${name} is not in the dictionary`);
    const type: string = entry.type;
    const isType = types[type] !== undefined;
    return {
      name,
      type: isType ? type : 'object_t',
      primitive: isType ? (types[type].type ?? type) : 'object_t',
      ...(isType ? {} : { objectType: type === 'object' ? 'object' : type }),
      isArray: entry.is_array === true,
      requirement: entry.requirement ?? 'optional',
      ...(Array.isArray(entry.profiles) ? { profiles: entry.profiles } : {}),
    };
  };
  const item = (source: Json, all: Map<string, Json>): OcsfItem => ({
    name: source.name,
    attributes: new Map([...resolve(source, all)].map(([name, attribute]) => [name, typed(name, attribute)])),
  });

  const classes = new Map<number, OcsfItem>();
  for (const event of events.values()) {
    if (event.uid === undefined && event.name !== 'base_event') continue;
    // A class's category may come from the class it extends (datastore_activity → application).
    let category: string | undefined = event.category;
    for (let parent = events.get(event.extends); !category && parent; parent = events.get(parent.extends)) category = parent.category;
    const categoryUid: number = categories[category ?? '']?.uid ?? 0;
    classes.set(event.name === 'base_event' ? 0 : categoryUid * 1000 + (event.uid as number), item(event, events));
  }
  const resolvedObjects = new Map<string, OcsfItem>();
  for (const object of objects.values()) resolvedObjects.set(object.name, item(object, objects));
  return { version: readJson(join(dir, 'version.json')).version, classes, objects: resolvedObjects };
}
