// The pinned keys of the upstream host, in OpenSSH's known_hosts format: plain and hashed
// (|1|salt|hash) host names, `[host]:port` for ports other than 22, `*`/`?` patterns and `!`
// negations, and @revoked lines. @cert-authority lines are not supported and never match, so a
// host known only through a CA is unknown here (refused) rather than trusted loosely.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export type HostKeyVerdict = 'match' | 'unknown' | 'changed' | 'revoked';

interface KnownHostLine {
  readonly marker: '' | '@revoked' | '@cert-authority';
  readonly patterns: readonly string[];
  readonly type: string;
  readonly key: Buffer;
}

/** How the host is named in known_hosts: `host`, or `[host]:port` off port 22. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export class KnownHosts {
  constructor(private readonly file: string) {}

  /** What the file says of this key for this host (re-read each time: an operator may edit it). */
  verdict(host: string, port: number, key: Buffer): HostKeyVerdict {
    const lines = this.linesFor(knownHostName(host, port));
    if (lines.some((line) => line.marker === '@revoked' && sameKey(line.key, key))) return 'revoked';
    const pinned = lines.filter((line) => line.marker === '');
    if (pinned.some((line) => sameKey(line.key, key))) return 'match';
    return pinned.length === 0 ? 'unknown' : 'changed';
  }

  /** The key types pinned for the host: the only host key algorithms worth negotiating. */
  pinnedTypes(host: string, port: number): string[] {
    return [...new Set(this.linesFor(knownHostName(host, port)).filter((line) => line.marker === '').map((line) => line.type))];
  }

  /** Pins a first-seen key (accept-new, for development). */
  pin(host: string, port: number, type: string, key: Buffer): void {
    appendFileSync(this.file, `${knownHostName(host, port)} ${type} ${key.toString('base64')}\n`, { mode: 0o600 });
  }

  private linesFor(name: string): KnownHostLine[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .map(parseLine)
      .filter((line): line is KnownHostLine => line !== undefined && line.marker !== '@cert-authority' && hostMatches(line.patterns, name));
  }
}

function parseLine(text: string): KnownHostLine | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3 || fields[0]!.startsWith('#')) return undefined;
  let marker: KnownHostLine['marker'] = '';
  if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostLine['marker'];
  const [hosts, type, base64] = fields;
  if (!hosts || !type || !base64 || !/^[A-Za-z0-9+/]+=*$/.test(base64)) return undefined;
  return { marker, patterns: hosts.split(','), type, key: Buffer.from(base64, 'base64') };
}

function hostMatches(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    if (!patternMatches(body, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const expected = Buffer.from(hash, 'base64');
    const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  const glob = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return glob.test(name);
}

function sameKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
