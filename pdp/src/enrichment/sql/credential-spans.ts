/**
 * Where a SQL text holds a secret, found on PostgreSQL's own scanner tokens (so it works on text
 * the parser rejects too), for redaction before anything is recorded, logged or shown:
 *
 * - a role password: `CREATE/ALTER ROLE|USER … [ENCRYPTED] PASSWORD '…'` (psql's \password too);
 * - a connection string: `CREATE/ALTER SUBSCRIPTION … CONNECTION '…'`;
 * - an option whose name says credential, given a string: `OPTIONS (password '…')` of user
 *   mappings, servers, wrappers and foreign tables (ADD/SET forms too), `secret`, `token`, `*key`,
 *   connection strings, DSNs and URLs;
 * - a setting whose name says credential: `SET app.password = '…'`, `ALTER ROLE … SET …`,
 *   `set_config('app.secret', '…', …)`, and set_config's value whenever its name is computed;
 * - the secret arguments of functions that take one: dblink's connection strings, pgcrypto's keys
 *   and passwords, crypt()'s password (every string in the argument, however it is built).
 *
 * Offsets are UTF-8 bytes, as the scanner and the parser count. A text the scanner cannot read
 * (an unterminated string …) that mentions any of these is withheld whole from the point where
 * it first does.
 */
import { scanSync } from "libpg-query";

export type CredentialKind = "password" | "connection" | "option" | "setting" | "function-argument";

export interface CredentialSpan {
  /** UTF-8 byte offsets into the text: [start, end). */
  readonly start: number;
  readonly end: number;
  readonly kind: CredentialKind;
  /** The option, setting or function it belongs to (never the secret); null for role passwords and CONNECTION. */
  readonly name: string | null;
}

export interface CredentialScan {
  readonly spans: readonly CredentialSpan[];
  /** The scanner could not read the text: from this byte on, nothing may be shown (null: it could). */
  readonly withheldFrom: number | null;
}

export const REDACTED_LITERAL = "'[redacted]'";
const WITHHELD = "[redacted: text that may hold a credential]";

/** Texts without any of these cannot hold a secret the rules below find: no scan needed. */
const MAY_HOLD_CREDENTIAL = /pass|secret|token|key|credential|conn|dsn|uri|url|dblink|crypt|pgp_|hmac|set_config|u&/i;

/** Option and setting names that hold secrets (matched on the last part of the name, lower case). */
const CREDENTIAL_NAME = /pass|secret|token|key|credential|conninfo|connstr|connection|dsn|uri|url/;

/** Functions with secret arguments: which positions ("last": the last one; needs: at least that many arguments). */
const SECRET_ARGUMENTS: Readonly<Record<string, { readonly positions: ReadonlyArray<number | "last">; readonly minArgs?: number }>> = {
  dblink: { positions: [0], minArgs: 2 },
  dblink_exec: { positions: [0], minArgs: 2 },
  dblink_connect: { positions: ["last"] },
  dblink_connect_u: { positions: ["last"] },
  pgp_sym_encrypt: { positions: [1] },
  pgp_sym_encrypt_bytea: { positions: [1] },
  pgp_sym_decrypt: { positions: [1] },
  pgp_sym_decrypt_bytea: { positions: [1] },
  pgp_pub_decrypt: { positions: [1, 2] },
  pgp_pub_decrypt_bytea: { positions: [1, 2] },
  encrypt: { positions: [1] },
  decrypt: { positions: [1] },
  encrypt_iv: { positions: [1, 2] },
  decrypt_iv: { positions: [1, 2] },
  hmac: { positions: [1] },
  crypt: { positions: [0] },
};

interface Token {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly keyword: boolean;
}

export function findCredentialSpans(sql: string): CredentialScan {
  if (!MAY_HOLD_CREDENTIAL.test(sql)) return { spans: [], withheldFrom: null };
  let tokens: Token[];
  try {
    tokens = scanSync(sql)
      // Comments separate nothing: PASSWORD /* … */ '…' is PASSWORD '…'.
      .tokens.filter((token) => token.tokenName !== "C_COMMENT" && token.tokenName !== "SQL_COMMENT")
      .map((token) => ({ start: token.start, end: token.end, text: token.text, keyword: token.keywordName !== "NO_KEYWORD" }));
  } catch {
    const match = MAY_HOLD_CREDENTIAL.exec(sql);
    return { spans: [], withheldFrom: match ? Buffer.byteLength(sql.slice(0, match.index), "utf8") : 0 };
  }
  const spans = new Map<number, CredentialSpan>();
  const add = (token: Token, kind: CredentialKind, name: string | null): void => {
    if (!spans.has(token.start)) spans.set(token.start, { start: token.start, end: token.end, kind, name });
  };
  tokens.forEach((token, index) => {
    const next = tokens[index + 1];
    const word = token.keyword ? token.text.toLowerCase() : undefined;
    if (next && isStringToken(next)) {
      if (word === "password") add(next, "password", null);
      else if (word === "connection") add(next, "connection", null);
      else {
        const name = identifierName(token);
        if (name !== undefined && CREDENTIAL_NAME.test(name)) add(next, "option", name);
      }
    }
    if (word === "set" && !inUpdate(tokens, index)) settingValue(tokens, index, add);
    if (next?.text === "(") functionArguments(tokens, index, add);
  });
  return { spans: [...spans.values()].sort((a, b) => a.start - b.start), withheldFrom: null };
}

/**
 * An UPDATE's SET (UPDATE, ON CONFLICT DO UPDATE, MERGE … THEN UPDATE) assigns columns, whose
 * values approvers must see: only SET, ALTER … SET and function SET clauses set settings.
 */
function inUpdate(tokens: readonly Token[], setIndex: number): boolean {
  for (let index = setIndex - 1; index >= 0; index--) {
    const text = (tokens[index] as Token).text.toLowerCase();
    if (text === ";") return false;
    if (text === "update" && (tokens[index] as Token).keyword) return true;
  }
  return false;
}

/** `SET [SESSION|LOCAL] a.b.name {=|TO} value[, value…]` with a credential-like name. */
function settingValue(tokens: readonly Token[], setIndex: number, add: (token: Token, kind: CredentialKind, name: string | null) => void): void {
  let index = setIndex + 1;
  const scope = tokens[index]?.text.toLowerCase();
  if (scope === "session" || scope === "local") index += 1;
  let name: string | undefined;
  for (;;) {
    const part = tokens[index];
    const partName = part ? identifierName(part) : undefined;
    if (partName === undefined) return;
    name = partName;
    index += 1;
    if (tokens[index]?.text !== ".") break;
    index += 1;
  }
  const operator = tokens[index]?.text.toLowerCase();
  if (operator !== "=" && operator !== "to") return;
  if (name === undefined || !CREDENTIAL_NAME.test(name)) return;
  // A setting's value: constants (quoted, or a bare word or number: SET app.token = abc123),
  // several for a list; an expression is an UPDATE's, which this is not.
  for (index += 1; index < tokens.length; index += 2) {
    const value = tokens[index];
    const after = tokens[index + 1]?.text;
    if (!value || !(isStringToken(value) || after === undefined || after === ";" || after === ",")) return;
    if (value.text.toLowerCase() === "default") return;
    add(value, "setting", name);
    if (after !== "," || !tokens[index + 2] || !isStringToken(tokens[index + 2] as Token)) return;
  }
}

/** A call `name(…)` (possibly schema-qualified) of a function with secret arguments, set_config with a credential-like name. */
function functionArguments(tokens: readonly Token[], nameIndex: number, add: (token: Token, kind: CredentialKind, name: string | null) => void): void {
  const nameToken = tokens[nameIndex] as Token;
  const name = identifierName(nameToken);
  if (name === undefined) return;
  const args = splitArguments(tokens, nameIndex + 1);
  if (args === undefined) return;
  const secretArgs = new Set<number>();
  const rule = SECRET_ARGUMENTS[name];
  const named = args.some((arg) => arg.some((token) => token.text === "=>"));
  if (rule && (rule.minArgs === undefined || args.length >= rule.minArgs || named)) {
    if (named) args.forEach((_, position) => secretArgs.add(position));
    for (const position of rule.positions) secretArgs.add(position === "last" ? args.length - 1 : position);
  }
  if (name === "set_config" && args.length >= 2) {
    // A name that is not one constant may be computed into a credential's: its value is withheld.
    const settingName = args[0]!;
    const constant = settingName.length === 1 && isStringToken(settingName[0]!);
    if (!constant || CREDENTIAL_NAME.test(settingName[0]!.text.toLowerCase()) || named) secretArgs.add(1);
  }
  for (const position of secretArgs) {
    for (const token of args[position] ?? []) if (isStringToken(token)) add(token, "function-argument", name);
  }
}

/** The tokens of each argument of the call whose "(" is at `open`; undefined when it never closes. */
function splitArguments(tokens: readonly Token[], open: number): Token[][] | undefined {
  const args: Token[][] = [[]];
  let depth = 0;
  for (let index = open; index < tokens.length; index++) {
    const token = tokens[index] as Token;
    if (token.text === "(" || token.text === "[") depth += 1;
    if (token.text === ")" || token.text === "]") {
      depth -= 1;
      if (depth === 0) return args[0]!.length === 0 && args.length === 1 ? [] : args;
    }
    if (index === open) continue;
    if (depth === 1 && token.text === ",") args.push([]);
    else (args[args.length - 1] as Token[]).push(token);
  }
  return undefined;
}

/** String constants as the scanner writes them: '…', E'…', N'…', U&'…', B'…', X'…', $tag$…$tag$. */
function isStringToken(token: Token): boolean {
  return /^(?:[eEnNbBxX]?'|[uU]&'|\$)/.test(token.text);
}

/** The name an identifier or keyword token stands for, lower case (quoted names decoded); undefined for anything else. */
function identifierName(token: Token): string | undefined {
  const text = token.text;
  if (text.startsWith('"')) return text.slice(1, -1).replaceAll('""', '"').toLowerCase();
  if (/^[uU]&"/.test(text)) {
    const inner = text.slice(3, -1).replaceAll('""', '"');
    return inner
      .replace(/\\\+([0-9a-fA-F]{6})|\\([0-9a-fA-F]{4})/g, (_, long: string | undefined, short: string | undefined) => String.fromCodePoint(parseInt(long ?? short ?? "3f", 16)))
      .toLowerCase();
  }
  if (/^[A-Za-z_\u0080-\uFFFF][\w$\u0080-\uFFFF]*$/.test(text)) return text.toLowerCase();
  return undefined;
}

/** `bytes[from, to)` as text with every secret replaced; trimmed, as statement texts are. */
export function redactedSlice(bytes: Buffer, scan: CredentialScan, from = 0, to = bytes.length): string {
  const limit = scan.withheldFrom === null ? to : Math.min(to, Math.max(from, scan.withheldFrom));
  const parts: string[] = [];
  let at = from;
  for (const span of scan.spans) {
    if (span.end <= from || span.start >= limit) continue;
    parts.push(bytes.subarray(at, Math.max(at, span.start)).toString("utf8"), REDACTED_LITERAL);
    at = Math.min(span.end, limit);
  }
  parts.push(bytes.subarray(at, limit).toString("utf8"));
  if (limit < to) parts.push(WITHHELD);
  return parts.join("").trim();
}

/** A message (a parse error) that may quote the text: every secret in it replaced. */
export function redactedMessage(message: string, bytes: Buffer, scan: CredentialScan): string {
  if (scan.withheldFrom !== null) return "the text could not be read (the message is withheld: it may quote a credential)";
  let result = message;
  for (const span of scan.spans) {
    const secret = bytes.subarray(span.start, span.end).toString("utf8");
    if (secret.length > 0) result = result.split(secret).join(REDACTED_LITERAL);
  }
  return result;
}

/** What policy is told: which kinds of credential each span is, per statement (never the values). */
export function credentialsWithin(scan: CredentialScan, from: number, to: number): Array<{ kind: CredentialKind; name: string | null }> {
  const found = scan.spans.filter((span) => span.start >= from && span.start < to).map((span) => ({ kind: span.kind, name: span.name }));
  if (scan.withheldFrom !== null && scan.withheldFrom < to) found.push({ kind: "password", name: null });
  return found;
}

/** True when the name of an option or setting says it holds a credential. */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name.toLowerCase());
}
