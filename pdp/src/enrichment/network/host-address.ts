/**
 * Reads the host of a forwarding request as the resource's resolver will, so policy sees the
 * address it connects to or listens on, not a spelling of it: glibc's getaddrinfo takes the
 * inet_aton forms of IPv4 (`127.1`, `0x7f.0.0.1`, `017700000001`, `2130706433` are all
 * 127.0.0.1), IPv4 inside IPv6 (`::ffff:127.0.0.1`) reaches the IPv4 address, and names are case-
 * insensitive with an optional final dot. A name is not resolved (the answer may change before
 * the connection): policy sees it as a name, `localhost` and `*.localhost` as loopback. What
 * cannot be read as an address or a DNS name is refused, not guessed.
 */
import { isIPv6 } from 'node:net';

export type AddressKind = 'ipv4' | 'ipv6' | 'name' | 'any';
/** Where an address leads; `name` for a DNS name that only resolution can place. */
export type AddressScope = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'reserved' | 'public' | 'name' | 'any';

export interface HostAddress {
  kind: AddressKind;
  /** The canonical form: dotted quad, compressed IPv6, lower-case name without the final dot; "" for any. */
  value: string;
  scope: AddressScope;
}

export type HostAddressReading = { readonly ok: true; readonly address: HostAddress } | { readonly ok: false; readonly problem: string };

// OpenSSH's spellings of "every address" for a listener.
const ANY_ADDRESS = new Set(['', '*']);
const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const NUMERIC_LOOKING = /^[0-9][0-9a-fx.]*$/i;

export function readHostAddress(host: string, listening: boolean): HostAddressReading {
  if (listening && ANY_ADDRESS.has(host)) return { ok: true, address: { kind: 'any', value: '', scope: 'any' } };
  if (host === '') return { ok: false, problem: 'is empty' };
  const bracketed = /^\[(.*)\]$/.exec(host);
  const bare = bracketed ? (bracketed[1] ?? '') : host;
  if (bare.includes(':')) return ipv6Reading(bare);
  if (bracketed) return { ok: false, problem: 'has brackets around something that is not an IPv6 address' };
  if (NUMERIC_LOOKING.test(bare) && !bare.includes('-')) {
    const ipv4 = inetAton(bare);
    if (ipv4 === undefined) return { ok: false, problem: 'looks like a numeric address but is not one the resolver reads the same way every time' };
    return { ok: true, address: ipv4Address(ipv4) };
  }
  return nameReading(bare);
}

function nameReading(host: string): HostAddressReading {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return { ok: false, problem: 'is not a DNS name (1 to 253 characters)' };
  const labels = name.split('.');
  if (!labels.every((label) => DNS_LABEL.test(label))) {
    return { ok: false, problem: 'is not a DNS name (letters, digits, - and _ in dot-separated labels; international names in their xn-- form)' };
  }
  // The last label all digits: a resolver may read the whole as a number.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return { ok: false, problem: 'ends in a numeric label, which resolvers read differently' };
  const loopback = name === 'localhost' || name.endsWith('.localhost');
  return { ok: true, address: { kind: 'name', value: name, scope: loopback ? 'loopback' : 'name' } };
}

/** inet_aton: one to four parts, each decimal, octal (leading 0) or hex (0x); the last fills the remaining bytes. */
function inetAton(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    // A bare 0x is read as 0 by some resolvers and refused by others: refused here.
    const value = /^0x[0-9a-f]+$/i.test(part) ? Number.parseInt(part.slice(2), 16)
      : /^0[0-7]*$/.test(part) ? Number.parseInt(part, 8)
      : /^[1-9][0-9]*$/.test(part) ? Number.parseInt(part, 10)
      : Number.NaN;
    if (!Number.isSafeInteger(value)) return undefined;
    values.push(value);
  }
  const last = values.pop() ?? 0;
  if (values.some((value) => value > 255)) return undefined;
  const lastBytes = 4 - values.length;
  if (last >= 2 ** (8 * lastBytes)) return undefined;
  const bytes = [...values];
  for (let i = lastBytes - 1; i >= 0; i -= 1) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes;
}

function ipv4Address(bytes: number[]): HostAddress {
  return { kind: 'ipv4', value: bytes.join('.'), scope: ipv4Scope(bytes) };
}

function ipv4Scope([a = 0, b = 0, c = 0, d = 0]: number[]): AddressScope {
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
  if (a === 169 && b === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240 || (a === 255 && b === 255 && c === 255 && d === 255)) return 'reserved';
  return 'public';
}

function ipv6Reading(text: string): HostAddressReading {
  if (text.includes('%')) return { ok: false, problem: 'names an IPv6 zone (%…), which the PDP does not read' };
  if (!isIPv6(text)) return { ok: false, problem: 'is not an IPv6 address' };
  // The URL standard's serialisation: compressed, lower case, an embedded IPv4 part in hex.
  const value = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const words = ipv6Words(value);
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses reach the IPv4 host.
  const [w5 = 0, w6 = 0, w7 = 0] = words.slice(5);
  const embedsIpv4 = words.slice(0, 5).every((word) => word === 0) && (w5 === 0xffff || (w5 === 0 && w6 !== 0));
  if (embedsIpv4) return { ok: true, address: ipv4Address([w6 >> 8, w6 & 255, w7 >> 8, w7 & 255]) };
  return { ok: true, address: { kind: 'ipv6', value, scope: ipv6Scope(words) } };
}

/** The eight 16-bit words of an IPv6 address in hex notation (no embedded dotted part). */
function ipv6Words(text: string): number[] {
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((word) => Number.parseInt(word, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function ipv6Scope(words: number[]): AddressScope {
  const first = words[0] ?? 0;
  if (words.every((word) => word === 0)) return 'unspecified';
  if (words.slice(0, 7).every((word) => word === 0) && words[7] === 1) return 'loopback';
  if ((first & 0xfe00) === 0xfc00) return 'private';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  return 'public';
}
