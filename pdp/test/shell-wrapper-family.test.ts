import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createShellAnalyzer, type ShellAnalyzer } from '../src/enrichment/shell-analyzer.ts';

/** Commands that run their operands: the command they run is listed with via = the wrapper. */
let analyzer: ShellAnalyzer;

before(async () => {
  analyzer = await createShellAnalyzer();
});

async function runs(command: string): Promise<Array<[string, (string | null)[], string | null, boolean]>> {
  const result = await analyzer.analyze(command);
  assert.equal(result.parse_error, null, command);
  return result.commands.slice(1).map((entry) => [entry.name, entry.args, entry.via, entry.dynamic_name]);
}

describe('shell analyzer: the wrapper family', () => {
  const located: Array<[string, string, (string | null)[], string]> = [
    ['flock /tmp/l rm -rf /', 'rm', ['-rf', '/'], 'flock'],
    ['flock -w 5 -n /tmp/l rm -rf /', 'rm', ['-rf', '/'], 'flock'],
    ["flock /tmp/l -c 'rm -rf /'", 'rm', ['-rf', '/'], 'flock -c'],
    ['taskset 1 rm -rf /', 'rm', ['-rf', '/'], 'taskset'],
    ['taskset -c 0-3 reboot', 'reboot', [], 'taskset'],
    ['chrt -f 10 reboot', 'reboot', [], 'chrt'],
    ['unshare -rm --fork rm x', 'rm', ['x'], 'unshare'],
    ['nsenter -t 1 -m -u rm x', 'rm', ['x'], 'nsenter'],
    ['nsenter --target=1 --mount rm x', 'rm', ['x'], 'nsenter'],
    ['setpriv --reuid=0 --init-groups rm x', 'rm', ['x'], 'setpriv'],
    ["script -qc 'rm -rf /' /dev/null", 'rm', ['-rf', '/'], 'script -c'],
    ["script /dev/null -c 'reboot'", 'reboot', [], 'script -c'],
    ['numactl -N 0 --membind=0 reboot', 'reboot', [], 'numactl'],
    ['fakeroot -- rm x', 'rm', ['x'], 'fakeroot'],
    ['eatmydata rm x', 'rm', ['x'], 'eatmydata'],
    ['catchsegv rm x', 'rm', ['x'], 'catchsegv'],
    ['runuser -u root -- rm -rf /', 'rm', ['-rf', '/'], 'runuser'],
    ["runuser root -c 'reboot'", 'reboot', [], 'runuser -c'],
    ["sg wheel -c 'reboot'", 'reboot', [], 'sg -c'],
    ['sg wheel reboot', 'reboot', [], 'sg -c'],
  ];
  for (const [command, name, args, via] of located) {
    it(command, async () => {
      assert.deepEqual((await runs(command)).find((entry) => entry[0] === name), [name, args, via, false]);
    });
  }

  for (const command of ['systemd-run rm -rf /', 'parallel rm ::: a b', 'strace -f ls', 'at now', 'cgexec -g cpu:x rm x', 'flock $FLAGS /tmp/l rm x', 'taskset --bogus 1 rm x']) {
    it(`${command}: unknown`, async () => {
      assert.ok((await runs(command)).some(([name, , , dynamic]) => name === '' && dynamic), command);
    });
  }

  for (const command of ['flock 3', 'taskset -p 1 123', 'chrt -m', 'setpriv --dump', 'numactl --hardware']) {
    it(`${command}: runs nothing`, async () => {
      assert.deepEqual(await runs(command), []);
    });
  }
});
