// known_hosts as OpenSSH reads it, with ssh-keygen -F as the oracle for which lines name a host:
// plain names, [host]:port, hashed names, patterns and negations; @revoked wins.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KnownHosts } from '../src/upstream/known-hosts.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-known-hosts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function newKey(name: string): { line: string; blob: Buffer } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path], { stdio: 'ignore' });
  const [type, base64] = execFileSync('cat', [`${path}.pub`], { encoding: 'utf8' }).trim().split(/\s+/);
  return { line: `${type} ${base64}`, blob: Buffer.from(base64!, 'base64') };
}

describe('known_hosts', () => {
  const a = newKey('a');
  const b = newKey('b');
  const file = join(dir, 'known_hosts');
  writeFileSync(
    file,
    [
      '# comment',
      `web-1.internal,10.0.0.5 ${a.line}`,
      `[web-2.internal]:2222 ${a.line}`,
      `*.staging.internal,!db.staging.internal ${b.line}`,
      `@revoked web-3.internal ${b.line}`,
      `web-3.internal ${b.line}`,
      `garbage line`,
    ].join('\n'),
  );
  const hashed = join(dir, 'known_hosts_hashed');
  writeFileSync(hashed, `web-4.internal ${a.line}\n[web-5.internal]:2200 ${b.line}\n`);
  execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'ignore' });
  const known = new KnownHosts(file);
  const knownHashed = new KnownHosts(hashed);

  /** Whether ssh-keygen finds a line for the name (port 22 names plainly, others as [host]:port). */
  const oracle = (path: string, name: string): boolean => spawnSync('ssh-keygen', ['-F', name, '-f', path], { encoding: 'utf8' }).stdout.includes(' ssh-ed25519 ');

  it('agrees with ssh-keygen -F on which hosts are known', () => {
    const cases: [string, number, string][] = [
      ['web-1.internal', 22, 'web-1.internal'],
      ['10.0.0.5', 22, '10.0.0.5'],
      ['web-2.internal', 2222, '[web-2.internal]:2222'],
      ['web-2.internal', 22, 'web-2.internal'],
      ['app.staging.internal', 22, 'app.staging.internal'],
      ['db.staging.internal', 22, 'db.staging.internal'],
      ['nowhere.internal', 22, 'nowhere.internal'],
    ];
    for (const [host, port, name] of cases) {
      const verdict = known.verdict(host, port, a.blob);
      assert.equal(verdict !== 'unknown', oracle(file, name), `${name}: ${verdict}`);
    }
    assert.equal(knownHashed.verdict('web-4.internal', 22, a.blob), 'match');
    assert.equal(oracle(hashed, 'web-4.internal'), true);
    assert.equal(knownHashed.verdict('web-5.internal', 2200, b.blob), 'match');
    assert.equal(knownHashed.verdict('web-5.internal', 22, b.blob), 'unknown');
  });

  it('tells a match from a changed key, and a revoked key from both', () => {
    assert.equal(known.verdict('web-1.internal', 22, a.blob), 'match');
    assert.equal(known.verdict('web-1.internal', 22, b.blob), 'changed');
    assert.equal(known.verdict('app.staging.internal', 22, b.blob), 'match');
    assert.equal(known.verdict('db.staging.internal', 22, b.blob), 'unknown');
    assert.equal(known.verdict('web-3.internal', 22, b.blob), 'revoked');
    assert.deepEqual(known.pinnedTypes('web-1.internal', 22), ['ssh-ed25519']);
  });
});
