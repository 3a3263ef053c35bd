import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enrichFileAction } from '../src/enrichment/file/file-action-reader.ts';
import { readHostPath } from '../src/enrichment/file/host-path.ts';

function normalised(path: string, cwd?: string): string {
  const reading = readHostPath(path, cwd);
  assert.ok(reading.ok, `refused ${JSON.stringify(path)}: ${reading.ok ? '' : reading.problem}`);
  return reading.path;
}

function refusal(path: string, cwd?: string): string {
  const reading = readHostPath(path, cwd);
  assert.equal(reading.ok, false, `accepted ${JSON.stringify(path)}`);
  return reading.ok ? '' : reading.problem;
}

describe('file paths as the host resolves them', () => {
  it('drops . segments, repeated and trailing slashes, as the kernel does', () => {
    assert.equal(normalised('/etc/./ssh//sshd_config'), '/etc/ssh/sshd_config');
    assert.equal(normalised('//srv/app/'), '/srv/app');
    assert.equal(normalised('/.'), '/');
    assert.equal(normalised('/'), '/');
  });

  it('resolves a relative path from the absolute cwd the host starts in', () => {
    assert.equal(normalised('notes.txt', '/home/deploy'), '/home/deploy/notes.txt');
    assert.equal(normalised('./a/./b/', '/home/deploy/'), '/home/deploy/a/b');
    assert.equal(normalised('.', '/home/deploy'), '/home/deploy');
  });

  it('keeps ~, backslashes, spaces and newlines as the ordinary characters they are to the kernel', () => {
    assert.equal(normalised('~/x', '/home/u'), '/home/u/~/x');
    assert.equal(normalised('/tmp/a\\b c\nd'), '/tmp/a\\b c\nd');
  });

  it('refuses a relative path without an absolute cwd rather than guess one', () => {
    assert.match(refusal('notes.txt'), /relative and no absolute cwd/);
    assert.match(refusal('notes.txt', 'home/u'), /cwd that is not absolute/);
    assert.match(refusal('notes.txt', '/home/../etc'), /relative to a cwd that has a \.\. segment/);
  });

  it('refuses every .. segment: after a symbolic link it climbs from the link target', () => {
    for (const path of ['/srv/app/../../etc/shadow', '/..', '/srv/..', 'a/..', '../x']) {
      assert.match(refusal(path, '/home/u'), /\.\. segment/, path);
    }
    // Names that only start or end with dots are names.
    assert.equal(normalised('/srv/...'), '/srv/...');
    assert.equal(normalised('/srv/..x/x..'), '/srv/..x/x..');
  });

  it('refuses paths through a process\'s view of the file system, which the kernel resolves elsewhere', () => {
    for (const path of ['/proc/self/root/etc/shadow', '/proc/1/cwd/.ssh/id_ed25519', '/proc/self/fd/3', '/proc/thread-self/root/etc/shadow', '/proc/42/task/43/root/etc/shadow', '/proc/self/map_files/x', '/dev/fd/0', '//proc/./self/root/etc/shadow']) {
      assert.match(refusal(path), /process's view of the file system/, path);
    }
    assert.match(refusal('root/etc/shadow', '/proc/self'), /process's view/, 'relative to a cwd under /proc');
    // Other /proc files are files.
    assert.equal(normalised('/proc/self/status'), '/proc/self/status');
    assert.equal(normalised('/proc/meminfo'), '/proc/meminfo');
    assert.equal(normalised('/dev/fd'), '/dev/fd');
  });

  it('refuses NUL, bytes that were not UTF-8, and lone surrogates', () => {
    assert.match(refusal('/etc/passwd\u0000.txt'), /NUL/);
    assert.match(refusal('/tmp/caf\uFFFD'), /U\+FFFD/);
    assert.match(refusal('/tmp/\uD800x'), /lone surrogate/);
    assert.match(refusal('/tmp/\uDC00'), /lone surrogate/);
    assert.equal(normalised('/tmp/\uD83D\uDE00'), '/tmp/\uD83D\uDE00');
  });

  it('refuses an empty path and one longer than PATH_MAX once resolved', () => {
    assert.match(refusal(''), /empty/);
    assert.match(refusal('x'.repeat(4000), `/${'d'.repeat(200)}`), /longer than 4096/);
  });
});

describe('the enriched file action', () => {
  it('carries the normalised paths, what was sent, and every path named', () => {
    assert.deepEqual(enrichFileAction({ type: 'file', protocol: 'sftp', operation: 'rename', path: 'a.txt', target_path: '/srv//b.txt', cwd: '/home/u' }), {
      type: 'file',
      protocol: 'sftp',
      operation: 'rename',
      path: '/home/u/a.txt',
      target_path: '/srv/b.txt',
      as_sent: { path: 'a.txt', target_path: '/srv//b.txt', cwd: '/home/u' },
      paths: ['/home/u/a.txt', '/srv/b.txt'],
      parse_error: null,
    });
  });

  it("resolves a symbolic link's relative target from the link's own directory", () => {
    const enriched = enrichFileAction({ type: 'file', operation: 'symlink', path: 'www/current', target_path: 'releases/7', cwd: '/srv' });
    assert.equal(enriched.path, '/srv/www/current');
    assert.equal(enriched.target_path, '/srv/www/releases/7');
    assert.equal(enriched.parse_error, null);
  });

  it('is a parse_error naming the field, with the paths as sent, when one path cannot be read', () => {
    const enriched = enrichFileAction({ type: 'file', operation: 'symlink', path: '/srv/www/current', target_path: '../../etc' });
    assert.match(enriched.parse_error ?? '', /^target_path has a \.\. segment/);
    assert.equal(enriched.target_path, '../../etc');
    assert.deepEqual(enriched.paths, []);
    const nul = enrichFileAction({ type: 'file', operation: 'read', path: '/etc/passwd\u0000' });
    assert.match(nul.parse_error ?? '', /^path contains a NUL/);
  });

  it('keeps open flags and attributes as sent', () => {
    const enriched = enrichFileAction({ type: 'file', operation: 'write', path: '/tmp/x', open: { create: true, truncate: true }, attributes: { mode: 0o4755 } });
    assert.deepEqual(enriched.open, { create: true, truncate: true });
    assert.deepEqual(enriched.attributes, { mode: 0o4755 });
  });
});
