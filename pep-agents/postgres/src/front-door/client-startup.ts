import { PgError, SQLSTATE } from '../errors/pg-error.ts';

/** What the client asked for at start-up, and the parameters the PEP passes on to the server. */
export interface ClientStartup {
  readonly user: string;
  readonly database: string;
  readonly applicationName: string | undefined;
  /** Start-up parameters sent on to the server (the server's user and database are the PEP's own). */
  readonly forwarded: Readonly<Record<string, string>>;
}

// Session settings a client may give at start-up: none changes who acts, what names resolve to,
// or how the server reads SQL text. Anything else (options, role, search_path …) would bypass
// the statement policy; the client can SET it after connecting and policy decides.
const FORWARDED = new Map(
  ['application_name', 'client_encoding', 'DateStyle', 'TimeZone', 'IntervalStyle', 'extra_float_digits', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'].map(
    (name) => [name.toLowerCase(), name],
  ),
);

// The PDP parses the text as UTF-8 and the server must read the same bytes the same way: in other
// encodings a multibyte character can end in the byte of a quote or backslash (SJIS, BIG5, GBK …)
// or the bytes decode to other text. PostgreSQL's names for UTF8, compared as it compares them.
const UTF8_NAMES = new Set(['utf8', 'unicode']);

export function readClientStartup(parameters: ReadonlyMap<string, string>): ClientStartup {
  const user = parameters.get('user');
  if (!user) throw fatal(SQLSTATE.invalidAuthorization, 'no PostgreSQL user name specified in startup packet');
  const forwarded: Record<string, string> = {};
  for (const [name, value] of parameters) {
    if (name === 'user' || name === 'database') continue;
    if (name === 'replication') throw fatal(SQLSTATE.featureNotSupported, 'portcullis: replication connections are not allowed through this PEP');
    const canonical = FORWARDED.get(name.toLowerCase());
    if (!canonical) {
      throw fatal(SQLSTATE.featureNotSupported, `portcullis: the start-up parameter "${name}" is not accepted`, 'Connect without it and use SET, which policy decides.');
    }
    if (canonical === 'client_encoding' && !UTF8_NAMES.has(value.toLowerCase().replace(/[^a-z0-9]/g, ''))) {
      throw fatal(SQLSTATE.invalidParameterValue, `portcullis: client_encoding "${value}" is not accepted; this PEP relays UTF8 sessions only`, 'Connect with client_encoding UTF8 (PGCLIENTENCODING=UTF8).');
    }
    forwarded[canonical] = value;
  }
  return { user, database: parameters.get('database') || user, applicationName: parameters.get('application_name'), forwarded };
}

function fatal(code: (typeof SQLSTATE)[keyof typeof SQLSTATE], message: string, hint?: string): PgError {
  return new PgError(code, message, { severity: 'FATAL', ...(hint ? { hint } : {}) });
}
