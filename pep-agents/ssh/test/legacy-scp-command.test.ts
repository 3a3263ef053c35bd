// How an exec request is read as legacy scp's server side: split as the host's shell would
// split it, and refused whenever that shell would do more than pass words on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readLegacyScp } from '../src/files/legacy-scp-command.ts';

describe('legacy scp commands', () => {
  it('reads what OpenSSH\'s scp -O sends', () => {
    assert.deepEqual(readLegacyScp('scp -v -t /tmp/dst.txt'), { ok: true, request: { mode: 'sink', paths: ['/tmp/dst.txt'], recursive: false, preserveTimes: false, targetIsDirectory: false } });
    assert.deepEqual(readLegacyScp('scp -v -r -p -d -f /srv/a /srv/b'), { ok: true, request: { mode: 'source', paths: ['/srv/a', '/srv/b'], recursive: true, preserveTimes: true, targetIsDirectory: true } });
    assert.deepEqual(readLegacyScp('/usr/bin/scp -pf -- -odd-name'), { ok: true, request: { mode: 'source', paths: ['-odd-name'], recursive: false, preserveTimes: true, targetIsDirectory: false } });
  });

  it('splits words as the shell does: quotes, backslashes, a leading ~ or ~/', () => {
    const paths = (command: string) => {
      const reading = readLegacyScp(command);
      assert.ok(reading?.ok, command);
      return reading.request.paths;
    };
    assert.deepEqual(paths(`scp -f 'a b' "c d" e\\ f`), ['a b', 'c d', 'e f']);
    assert.deepEqual(paths(`scp -f 'it'"'"'s' "say \\"hi\\""`), ["it's", 'say "hi"']);
    assert.deepEqual(paths('scp -f ~/notes.txt ~ a~b'), ['notes.txt', '.', 'a~b']);
    assert.deepEqual(paths(`scp -f '~/literal' '$HOME' "*"`), ['~/literal', '$HOME', '*']);
  });

  it('refuses what the shell would expand, chain or redirect, and anything but plain scp server options', () => {
    for (const command of [
      'scp -f $HOME/x',
      'scp -f "$HOME/x"',
      'scp -f `id`',
      'scp -f /tmp/*.log',
      'scp -f /tmp/a?',
      'scp -f /tmp/[ab]',
      'scp -f {a,b}',
      'scp -f a; rm -rf /',
      'scp -f a && id',
      'scp -f a | nc host 1',
      'scp -t a > /etc/passwd',
      'scp -f ~root/.bashrc',
      'scp -f a\nid',
      "scp -f 'unterminated",
      'scp -t a b',
      'scp -t',
      'scp -f',
      'scp -f -t a',
      'scp -S /tmp/evil -f a',
      'scp -o ProxyCommand=x -f a',
      'scp -f a #comment',
    ]) {
      const reading = readLegacyScp(command);
      assert.ok(reading && !reading.ok, `${JSON.stringify(command)} → ${JSON.stringify(reading)}`);
    }
  });

  it('leaves other commands to the exec path', () => {
    for (const command of ['ls -l', 'scp a b', 'scp', 'cat scp -t', 'echo scp -f x', 'scpx -f a']) assert.equal(readLegacyScp(command), undefined, command);
  });
});
