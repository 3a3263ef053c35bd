import { asArray, asObject, asString, type JsonObject } from '../json-fields.ts';
import { ACTIVITY_OTHER, API_ACTIVITY, DATASTORE_ACTIVITY, PROCESS_ACTIVITY, activityName, type OcsfClass } from './ocsf-catalogue.ts';

// Protocols, by the class their commands and sessions are filed under.
const PROTOCOL_CLASS: Readonly<Record<string, OcsfClass>> = {
  sql: DATASTORE_ACTIVITY, kubernetes: API_ACTIVITY, http: API_ACTIVITY, shell: PROCESS_ACTIVITY, mcp: API_ACTIVITY,
};

// Names a PEP or a resource type gives a protocol, for bodies that do not say sql/shell/kubernetes/http.
const PROTOCOL_ALIASES: Readonly<Record<string, string>> = {
  postgres: 'sql', postgresql: 'sql', mysql: 'sql', mariadb: 'sql', cockroachdb: 'sql',
  kubernetes: 'kubernetes', ssh: 'shell', host: 'shell', shell: 'shell', mcp: 'mcp',
};

/** sql, shell, kubernetes, http or mcp: from the protocol named, else the resource's type; http when neither says. */
export function protocolOf(protocol: string | undefined, resource: JsonObject | undefined): string {
  if (protocol && PROTOCOL_CLASS[protocol]) return protocol;
  return PROTOCOL_ALIASES[protocol ?? ''] ?? PROTOCOL_ALIASES[asString(resource?.type) ?? ''] ?? 'http';
}

/** The class a protocol's commands, connections and sessions are filed under. */
export function protocolClass(protocol: string): OcsfClass {
  return PROTOCOL_CLASS[protocol] ?? API_ACTIVITY;
}

/** An action as OCSF sees it: the class, the activity and the class's own objects. */
export interface OcsfActionActivity {
  readonly ocsfClass: OcsfClass;
  readonly activityId: number;
  readonly activityName: string;
  /** Class-specific attributes (query_info, api, process …), only those the class defines. */
  readonly attributes: JsonObject;
  /** A short human description of the command for `message`. */
  readonly summary: string;
}

/**
 * Maps an enriched action (docs/policy-input.md) onto its OCSF class: SQL → Datastore Activity,
 * Kubernetes, HTTP, MCP, file operations and forwarding → API Activity, shell → Process Activity. `uid` names the request (the
 * decision or event id); `resource` is the Portcullis resource the action targets.
 */
export function actionActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  switch (action.type) {
    case 'sql':
      return sqlActivity(action, resource, uid);
    case 'kubernetes':
      return kubernetesActivity(action, resource, uid);
    case 'shell':
      return shellActivity(action, resource, uid);
    case 'http':
      return httpActivity(action, resource, uid);
    case 'connect':
      return connectActivity(action, resource, uid);
    case 'file':
      return fileActivity(action, resource, uid);
    case 'network':
      return networkActivity(action, resource, uid);
    case 'mcp':
      return mcpActivity(action, resource, uid);
    default: {
      const type = asString(action.type) ?? 'unknown';
      return {
        ocsfClass: API_ACTIVITY,
        activityId: ACTIVITY_OTHER,
        activityName: activityName(API_ACTIVITY, ACTIVITY_OTHER, type),
        attributes: { api: { operation: type, request: { uid } }, ...endpoints(resource) },
        summary: type,
      };
    }
  }
}

// Statement kinds (policy-input.md) that OCSF names; every other kind is activity 99.
const SQL_KIND_ACTIVITY: Readonly<Record<string, number>> = {
  select: 4, show: 4, explain: 4, insert: 6, update: 2, merge: 2, delete: 7, truncate: 7,
};

const SQL_OTHER_NAMES: Readonly<Record<string, string>> = {
  ddl: 'DDL', grant: 'Grant', role: 'Role Management', set: 'Set', transaction: 'Transaction', do: 'Anonymous Code Block',
  call: 'Call', prepare: 'Prepare', execute: 'Execute', deallocate: 'Deallocate', maintenance: 'Maintenance',
  listen: 'Listen/Notify', lock: 'Lock', other: 'Other Statement',
};

// For a text of several statements the most consequential activity names the record.
const SQL_ACTIVITY_RANK = [7, ACTIVITY_OTHER, 2, 6, 5, 4, 1];

function sqlActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const sql = asString(action.sql) ?? '';
  const statements = asArray(action.statements).map(asObject).filter((statement): statement is JsonObject => statement !== undefined);
  let activityId = ACTIVITY_OTHER;
  let otherName = 'Unparsed Statement';
  if (!action.parse_error && statements.length > 0) {
    const candidates: Array<{ id: number; name?: string }> = statements.flatMap(statementActivities);
    const best = candidates.reduce((a, b) => (rank(b.id) < rank(a.id) ? b : a));
    activityId = best.id;
    otherName = candidates.find((candidate) => candidate.id === ACTIVITY_OTHER)?.name ?? 'Other Statement';
  }
  const tables = [...new Set(statements.flatMap((statement) => asArray(statement.tables).map(asString)))].filter((table): table is string => !!table);
  const attributes: JsonObject = {
    type_id: 1,
    type: 'Database',
    database: { name: asString(resource?.name) ?? 'unknown', type_id: 1, type: 'Relational' },
    query_info: { query_string: sql, uid },
    // OCSF has room for one table; the full list stays in the enriched action.
    ...(tables.length === 1 ? { table: { name: tables[0] } } : {}),
    ...endpoints(resource),
  };
  return {
    ocsfClass: DATASTORE_ACTIVITY,
    activityId,
    activityName: activityName(DATASTORE_ACTIVITY, activityId, otherName),
    attributes,
    summary: sql,
  };
}

function statementActivities(statement: JsonObject): Array<{ id: number; name?: string }> {
  const kind = asString(statement.kind) ?? 'other';
  // EXPLAIN without ANALYZE only plans its target: the DML inside does not run.
  if (kind === 'explain' && statement.explain_analyze !== true) return [{ id: 4 }];
  if (kind === 'copy') return [{ id: asObject(statement.copy)?.is_from === true ? 5 : 1 }];
  const kinds = [kind, ...asArray(statement.operations).map((operation) => asString(asObject(operation)?.kind) ?? '')];
  return kinds.filter(Boolean).map((each) => {
    const id = SQL_KIND_ACTIVITY[each];
    return id === undefined ? { id: ACTIVITY_OTHER, name: SQL_OTHER_NAMES[each] ?? each } : { id };
  });
}

function rank(activityId: number): number {
  const index = SQL_ACTIVITY_RANK.indexOf(activityId);
  return index === -1 ? SQL_ACTIVITY_RANK.length : index;
}

const VERB_ACTIVITY: Readonly<Record<string, number>> = {
  create: 1, post: 1, get: 2, list: 2, watch: 2, head: 2, options: 2, update: 3, put: 3, patch: 3, delete: 4, deletecollection: 4,
};

function kubernetesActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const method = (asString(action.method) ?? '').toUpperCase();
  const path = asString(action.path) ?? '';
  const request = asObject(action.request) ?? {};
  const verb = asString(request.verb) ?? method.toLowerCase();
  const activityId = VERB_ACTIVITY[verb] ?? ACTIVITY_OTHER;
  const isResource = request.is_resource_request === true;
  const kind = [asString(request.resource), asString(request.subresource)].filter(Boolean).join('/');
  const apiVersion = [asString(request.api_group), asString(request.api_version)].filter(Boolean).join('/');
  const name = asString(request.name);
  const namespace = asString(request.namespace);
  const target = isResource && kind
    ? [{ type: kind, name: name || kind, ...(namespace ? { namespace } : {}), role_id: 1, role: 'Target' }]
    : [];
  return {
    ocsfClass: API_ACTIVITY,
    activityId,
    activityName: activityName(API_ACTIVITY, activityId, verb || 'Unnamed Verb'),
    attributes: {
      api: {
        operation: isResource && kind ? `${verb} ${kind}` : `${verb} ${path}`,
        request: { uid },
        service: { name: asString(resource?.name) ?? 'kubernetes' },
        ...(apiVersion ? { version: apiVersion } : {}),
      },
      http_request: httpRequest(method, path, action.query),
      resources: [...target, ...resourceDetails(resource)],
      ...endpoints(resource),
    },
    summary: `${method} ${path}`,
  };
}

function httpActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const method = (asString(action.method) ?? '').toUpperCase();
  const path = asString(action.path) ?? '';
  const activityId = VERB_ACTIVITY[method.toLowerCase()] ?? ACTIVITY_OTHER;
  const headers = asObject(action.headers);
  const httpHeaders = headers ? Object.entries(headers).map(([name, value]) => ({ name, value: typeof value === 'string' ? value : JSON.stringify(value) })) : [];
  return {
    ocsfClass: API_ACTIVITY,
    activityId,
    activityName: activityName(API_ACTIVITY, activityId, method || 'Unnamed Method'),
    attributes: {
      api: { operation: `${method} ${path}`, request: { uid }, service: { name: asString(resource?.name) ?? 'http' } },
      http_request: { ...httpRequest(method, path, action.query), ...(httpHeaders.length > 0 ? { http_headers: httpHeaders } : {}) },
      resources: resourceDetails(resource),
      ...endpoints(resource),
    },
    summary: `${method} ${path}`,
  };
}

function shellActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const command = asString(action.command) ?? '';
  const first = asObject(asArray(action.commands)[0]);
  const name = asString(first?.name) ?? command.trim().split(/\s+/)[0] ?? '';
  const host = asString(resource?.name);
  return {
    ocsfClass: PROCESS_ACTIVITY,
    activityId: 1,
    activityName: activityName(PROCESS_ACTIVITY, 1),
    attributes: {
      // No pid exists for a command that has not run yet: the request's uid identifies it.
      process: { cmd_line: command, name, uid },
      device: { type_id: 0, type: 'Unknown', ...(host ? { name: host, hostname: host } : { name: 'unknown' }) },
    },
    summary: command,
  };
}

const FILE_OPERATION_ACTIVITY: Readonly<Record<string, number>> = {
  read: 2, list: 2, stat: 2, readlink: 2, realpath: 2, mkdir: 1, symlink: 1, link: 1, write: 3, rename: 3, setstat: 3, remove: 4, rmdir: 4,
};

/** A file operation (SFTP, scp) is an API Activity on the host: its operation and the paths it names as resources. */
function fileActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const operation = asString(action.operation) ?? 'file';
  const paths = asArray(action.paths).map(asString).filter((path): path is string => path !== undefined);
  const named = paths.length > 0 ? paths : [asString(action.path) ?? ''];
  const activityId = FILE_OPERATION_ACTIVITY[operation] ?? ACTIVITY_OTHER;
  const summary = `${operation} ${named.join(' → ')}`;
  return {
    ocsfClass: API_ACTIVITY,
    activityId,
    activityName: activityName(API_ACTIVITY, activityId, operation),
    attributes: {
      api: { operation: summary, request: { uid }, service: { name: asString(resource?.name) ?? 'file' } },
      resources: [...named.map((path) => ({ type: 'file', name: path })), ...resourceDetails(resource)],
      ...endpoints(resource),
    },
    summary,
  };
}

/** A forwarding request is an API Activity "Forward" on the host, naming where it leads. */
function networkActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const direction = asString(action.direction) ?? 'network';
  const address = asObject(action.address);
  const where = asString(action.socket_path) ?? `${asString(address?.value) ?? asString(action.host) ?? ''}:${String(action.port ?? '')}`;
  const summary = `forward ${direction} ${where}`;
  return {
    ocsfClass: API_ACTIVITY,
    activityId: ACTIVITY_OTHER,
    activityName: activityName(API_ACTIVITY, ACTIVITY_OTHER, 'Forward'),
    attributes: {
      api: { operation: summary, request: { uid }, service: { name: asString(resource?.name) ?? 'network' } },
      resources: resourceDetails(resource),
      ...endpoints(resource),
    },
    summary,
  };
}

// MCP requests that only read: listing tools, reading a resource, getting a prompt.
const MCP_READ_METHODS = new Set(['tools/list', 'resources/read', 'prompts/get', 'roots/list']);

/**
 * An MCP request is an API Activity on the server: a read for the methods that only read and for
 * a tool its server marks read-only, else "Call Tool" (or the method, for requests to the agent).
 * A session statement carries only its text, which then names the call.
 */
function mcpActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const method = asString(action.method) ?? 'tools/call';
  const tool = asString(action.tool);
  const readOnly = asObject(action.annotations)?.readOnlyHint === true;
  const activityId = MCP_READ_METHODS.has(method) || (method === 'tools/call' && readOnly) ? 2 : ACTIVITY_OTHER;
  const otherName = method === 'tools/call' ? 'Call Tool' : method;
  const target = method === 'tools/call' ? tool : method === 'resources/read' ? asString(action.uri) : method === 'prompts/get' ? asString(action.prompt) : undefined;
  const summary = asString(action.text) ?? (target === undefined ? method : `${method} ${target}`);
  const targetType = method === 'tools/call' ? 'mcp_tool' : method === 'resources/read' ? 'mcp_resource' : 'mcp_prompt';
  return {
    ocsfClass: API_ACTIVITY,
    activityId,
    activityName: activityName(API_ACTIVITY, activityId, otherName),
    attributes: {
      api: { operation: summary, request: { uid }, service: { name: asString(resource?.name) ?? 'mcp' } },
      resources: [...(target === undefined ? [] : [{ type: targetType, name: target }]), ...resourceDetails(resource)],
      ...endpoints(resource),
    },
    summary,
  };
}

/**
 * Asking to open a session is filed as the session start is: a SQL connection is Datastore
 * Activity Connect, a shell one Process Activity Launch, an API one API Activity "Connect".
 */
function connectActivity(action: JsonObject, resource: JsonObject | undefined, uid: string): OcsfActionActivity {
  const ocsfClass = protocolClass(protocolOf(asString(action.protocol), resource));
  const activityId = ocsfClass === DATASTORE_ACTIVITY ? 3 : ocsfClass === PROCESS_ACTIVITY ? 1 : ACTIVITY_OTHER;
  const user = asString(action.user);
  return {
    ocsfClass,
    activityId,
    activityName: activityName(ocsfClass, activityId, 'Connect'),
    attributes: sessionObjects(ocsfClass, resource, uid),
    summary: `connect${user ? ` as ${user}` : ''}${asString(action.database) ? ` to ${asString(action.database)}` : ''}`,
  };
}

/** The class's required objects for a session (its start, its end, the request to open it), which has no command. */
export function sessionObjects(ocsfClass: OcsfClass, resource: JsonObject | undefined, uid: string): JsonObject {
  const name = asString(resource?.name) ?? 'unknown';
  const type = asString(resource?.type);
  const dst = { dst_endpoint: { name, ...(type ? { svc_name: type } : {}) } };
  if (ocsfClass === DATASTORE_ACTIVITY) {
    return { type_id: 1, type: 'Database', database: { name, type_id: 1, type: 'Relational' }, ...dst };
  }
  if (ocsfClass === PROCESS_ACTIVITY) {
    return { process: { name: 'session', uid }, device: { type_id: 0, type: 'Unknown', name, hostname: name } };
  }
  return { api: { operation: 'session', request: { uid }, service: { name } }, resources: resourceDetails(resource), ...dst };
}

function httpRequest(method: string, path: string, query: unknown): JsonObject {
  const queryString = typeof query === 'string' ? query.replace(/^\?/, '') : queryFromRecord(asObject(query));
  return {
    ...(method ? { http_method: method } : {}),
    url: { path, ...(queryString ? { query_string: queryString } : {}), url_string: queryString ? `${path}?${queryString}` : path },
  };
}

function queryFromRecord(query: JsonObject | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const each of Array.isArray(value) ? value : [value]) params.append(name, String(each));
  }
  return params.toString();
}

/** The Portcullis resource as an OCSF resource_details entry. */
export function resourceDetails(resource: JsonObject | undefined): JsonObject[] {
  const name = asString(resource?.name);
  if (!name) return [];
  const labels = asObject(resource?.labels);
  return [{
    name,
    ...(asString(resource?.type) ? { type: resource?.type } : {}),
    ...(labels && Object.keys(labels).length > 0 ? { labels: Object.entries(labels).map(([key, value]) => `${key}=${String(value)}`) } : {}),
  }];
}

/** The resource as the destination endpoint (6003 and 6005 define dst_endpoint; 1007 does not). */
function endpoints(resource: JsonObject | undefined): JsonObject {
  const name = asString(resource?.name);
  if (!name) return {};
  const type = asString(resource?.type);
  return { dst_endpoint: { name, ...(type ? { svc_name: type } : {}) } };
}

