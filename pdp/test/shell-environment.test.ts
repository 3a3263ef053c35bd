import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createShellAnalyzer, type EnvironmentChange, type ShellAnalyzer } from '../src/enrichment/shell-analyzer.ts';

let analyzer: ShellAnalyzer;

before(async () => {
  analyzer = await createShellAnalyzer();
});

type Row = [name: string | null, route: string, value: string | null, flags: string, via: string | null];

/** Each change as [name, route, value, flags (x exported, u unset, + append), via]. */
async function changesOf(command: string): Promise<Row[]> {
  const result = await analyzer.analyze(command);
  assert.equal(result.parse_error, null, `unexpected parse error for ${command}`);
  return result.environment.map((change: EnvironmentChange): Row => [
    change.name,
    change.route,
    change.value,
    `${change.exported ? 'x' : ''}${change.unset ? 'u' : ''}${change.append ? '+' : ''}`,
    change.via,
  ]);
}

describe('shell analyzer: every way the text changes a variable', () => {
  it('prefix assignments reach the command they precede', async () => {
    assert.deepEqual(await changesOf('LD_PRELOAD=/tmp/x.so ls'), [['LD_PRELOAD', 'prefix', '/tmp/x.so', 'x', null]]);
    assert.deepEqual(await changesOf('PATH=/tmp:$PATH ls'), [['PATH', 'prefix', null, 'x', null]]);
    assert.deepEqual(await changesOf('A=1 B="two" ls'), [['A', 'prefix', '1', 'x', null], ['B', 'prefix', 'two', 'x', null]]);
    assert.deepEqual(await changesOf('PATH+=:/tmp ls'), [['PATH', 'prefix', ':/tmp', 'x+', null]]);
  });

  it('bare assignments, += and arrays set shell variables', async () => {
    assert.deepEqual(await changesOf('PATH=/tmp; ls'), [['PATH', 'assignment', '/tmp', '', null]]);
    assert.deepEqual(await changesOf('PATH+=:/tmp'), [['PATH', 'assignment', ':/tmp', '+', null]]);
    assert.deepEqual(await changesOf('a=(1 2); LD_PRELOAD[0]=/x.so'), [['a', 'assignment', null, '', null], ['LD_PRELOAD', 'assignment', null, '', null]]);
  });

  it('env: NAME=VALUE operands, -u, -i and -', async () => {
    assert.deepEqual(await changesOf('env LD_PRELOAD=x ls'), [['LD_PRELOAD', 'env', 'x', 'x', null]]);
    assert.deepEqual(await changesOf('env -i -u A --unset=B -uC D=1 ls'), [
      ['*', 'env -i', null, 'xu', null], ['A', 'env -u', null, 'xu', null], ['B', 'env -u', null, 'xu', null], ['C', 'env -u', null, 'xu', null], ['D', 'env', '1', 'x', null],
    ]);
    assert.deepEqual(await changesOf('env - ls'), [['*', 'env -i', null, 'xu', null]]);
    assert.deepEqual(await changesOf('env --ignore-environment PATH=/tmp ls'), [['*', 'env -i', null, 'xu', null], ['PATH', 'env', '/tmp', 'x', null]]);
    // env has no +=; a name it sets need not be a shell name.
    assert.deepEqual(await changesOf('env A+=1 b-c=2 ls'), [['A+', 'env', '1', 'x', null], ['b-c', 'env', '2', 'x', null]]);
  });

  it('export, declare -x, typeset -x, local -x, readonly, and their un-exporting forms', async () => {
    assert.deepEqual(await changesOf('export LD_PRELOAD=/x; ls'), [['LD_PRELOAD', 'export', '/x', 'x', null]]);
    assert.deepEqual(await changesOf('export PATH'), [['PATH', 'export', null, 'x', null]]);
    assert.deepEqual(await changesOf('declare -x PATH=/tmp'), [['PATH', 'declare', '/tmp', 'x', null]]);
    assert.deepEqual(await changesOf('typeset -gx A'), [['A', 'typeset', null, 'x', null]]);
    assert.deepEqual(await changesOf('f() { local -x C=1; local d; }'), [['C', 'local', '1', 'x', null], ['d', 'local', null, '', null]]);
    assert.deepEqual(await changesOf('readonly B=1'), [['B', 'readonly', '1', '', null]]);
    assert.deepEqual(await changesOf('export -n PATH'), [['PATH', 'export -n', null, 'xu', null]]);
    assert.deepEqual(await changesOf('declare +x PATH'), [['PATH', 'declare +x', null, 'xu', null]]);
    assert.deepEqual(await changesOf('export "IFS=x"'), [['IFS', 'export', 'x', 'x', null]]);
    assert.deepEqual(await changesOf('declare -p PATH'), []);
    assert.deepEqual(await changesOf('export -- X=1; declare -- LD_PRELOAD=x'), [['X', 'export', '1', 'x', null], ['LD_PRELOAD', 'declare', 'x', '', null]]);
    assert.deepEqual(await changesOf('builtin export -- Y=1'), [['Y', 'export', '1', 'x', 'builtin']]);
  });

  it('declarations run as words: builtin, command, quoted names', async () => {
    assert.deepEqual(await changesOf('builtin export GIT_DIR=/tmp'), [['GIT_DIR', 'export', '/tmp', 'x', 'builtin']]);
    assert.deepEqual(await changesOf('command declare -x A=1'), [['A', 'declare', '1', 'x', 'command']]);
    assert.deepEqual(await changesOf('"export" BASH_ENV=/tmp/x'), [['BASH_ENV', 'export', '/tmp/x', 'x', null]]);
  });

  it('exported functions and namerefs', async () => {
    assert.deepEqual(await changesOf('export -f ls'), [['BASH_FUNC_ls%%', 'export -f', null, 'x', null]]);
    assert.deepEqual(await changesOf('declare -fx ls'), [['BASH_FUNC_ls%%', 'declare -f', null, 'x', null]]);
    assert.deepEqual(await changesOf('declare -f ls'), []);
    assert.deepEqual(await changesOf('declare -n r=PATH'), [['PATH', 'declare -n', null, '', null]]);
  });

  it('builtins that assign: read, printf -v, mapfile, readarray, getopts, unset', async () => {
    assert.deepEqual(await changesOf('read IFS'), [['IFS', 'read', null, '', null]]);
    assert.deepEqual(await changesOf('read -r'), [['REPLY', 'read', null, '', null]]);
    assert.deepEqual(await changesOf('read -r -p prompt -a LD_PRELOAD x'), [['x', 'read', null, '', null], ['LD_PRELOAD', 'read', null, '', null]]);
    assert.deepEqual(await changesOf('printf -v PS4 %s x'), [['PS4', 'printf -v', null, '', null]]);
    assert.deepEqual(await changesOf('mapfile -t lines < f; readarray'), [['lines', 'mapfile', null, '', null], ['MAPFILE', 'readarray', null, '', null]]);
    assert.deepEqual(await changesOf('getopts ab opt'), [['opt', 'getopts', null, '', null]]);
    assert.deepEqual(await changesOf('unset -v PATH IFS'), [['PATH', 'unset', null, 'u', null], ['IFS', 'unset', null, 'u', null]]);
    assert.deepEqual(await changesOf('unset -f ls'), []);
  });

  it('syntax that assigns: for, select, ${X=…}, ${X:=…}, arithmetic, let', async () => {
    assert.deepEqual(await changesOf('for PATH in /tmp; do ls; done'), [['PATH', 'for', null, '', null]]);
    assert.deepEqual(await changesOf('select IFS in a b; do :; done'), [['IFS', 'for', null, '', null]]);
    assert.deepEqual(await changesOf(': ${PATH:=/tmp} ${A=b} ${B:-c}'), [['PATH', 'expansion', '/tmp', '', null], ['A', 'expansion', 'b', '', null]]);
    assert.deepEqual(await changesOf('((IFS=1))'), [['IFS', 'arithmetic', null, '', null]]);
    assert.deepEqual(await changesOf('echo $((X+=1)) $((Y++))'), [['X', 'arithmetic', null, '+', null], ['Y', 'arithmetic', null, '+', null]]);
    assert.deepEqual(await changesOf('a[PATH=1]=x'), [['PATH', 'arithmetic', null, '', null], ['a', 'assignment', null, '', null]]);
    assert.deepEqual(await changesOf('for ((i=0; i<3; i++)); do :; done'), [['i', 'arithmetic', null, '', null], ['i', 'arithmetic', null, '+', null]]);
    assert.deepEqual(await changesOf('let "PATH=1" "IFS <<= 2" Y++'), [['Y', 'arithmetic', null, '+', null], ['PATH', 'arithmetic', null, '', null], ['IFS', 'arithmetic', null, '', null]]);
  });

  it('values bash evaluates as arithmetic assign in turn, when any script does arithmetic', async () => {
    assert.deepEqual(await changesOf("x='PATH=5'; echo $((x))"), [['x', 'assignment', 'PATH=5', '', null], ['PATH', 'arithmetic', null, '', null]]);
    assert.deepEqual(await changesOf("declare -i n; n='IFS=7'"), [['n', 'declare', null, '', null], ['n', 'assignment', 'IFS=7', '', null], ['IFS', 'arithmetic', null, '', null]]);
    assert.deepEqual(await changesOf("x='PATH=5'; [[ $x -eq 1 ]]"), [['x', 'assignment', 'PATH=5', '', null], ['PATH', 'arithmetic', null, '', null]]);
    assert.deepEqual(await changesOf("X='LD_PRELOAD=5' bash -c 'echo $((X))'"), [['X', 'prefix', 'LD_PRELOAD=5', 'x', null], ['LD_PRELOAD', 'arithmetic', null, '', null]]);
    // Without arithmetic anywhere, a value is only text.
    assert.deepEqual(await changesOf("url='http://x/?TOKEN=1'; echo $url"), [['url', 'assignment', 'http://x/?TOKEN=1', '', null]]);
  });

  it('the whole environment: exec -c, sudo -E, set -a, set -o allexport', async () => {
    assert.deepEqual(await changesOf('exec -c ls'), [['*', 'exec -c', null, 'xu', null]]);
    assert.deepEqual(await changesOf('sudo -E ls'), [['*', 'sudo -E', null, 'x', null]]);
    assert.deepEqual(await changesOf('sudo LD_LIBRARY_PATH=/tmp ls'), [['LD_LIBRARY_PATH', 'sudo', '/tmp', 'x', null]]);
    assert.deepEqual(await changesOf('su -m root -c id'), [['*', 'su -m', null, 'x', null]]);
    assert.deepEqual(await changesOf('su -w LD_PRELOAD,PATH - deploy'), [['LD_PRELOAD', 'su -w', null, 'x', null], ['PATH', 'su -w', null, 'x', null]]);
    assert.deepEqual(await changesOf('set -ea; x=1'), [['*', 'set -a', null, 'x', null], ['x', 'assignment', '1', '', null]]);
    assert.deepEqual(await changesOf('set -o allexport'), [['*', 'set -a', null, 'x', null]]);
    assert.deepEqual(await changesOf('set -e -o pipefail'), []);
  });

  it('inside shell strings, substitutions and wrappers, with where they came from', async () => {
    assert.deepEqual(await changesOf('bash -c "LD_PRELOAD=x ls"'), [['LD_PRELOAD', 'prefix', 'x', 'x', 'sh -c']]);
    assert.deepEqual(await changesOf("sh -c 'sh -c \"export PATH=/tmp\"'"), [['PATH', 'export', '/tmp', 'x', 'sh -c']]);
    assert.deepEqual(await changesOf('nohup env NODE_OPTIONS=--require=/tmp/x node a.js'), [['NODE_OPTIONS', 'env', '--require=/tmp/x', 'x', 'nohup']]);
    assert.deepEqual(await changesOf('command env PYTHONPATH=/tmp python3 x.py'), [['PYTHONPATH', 'env', '/tmp', 'x', 'command']]);
    assert.deepEqual(await changesOf('find . -exec env LD_PRELOAD=x ls {} \\;'), [['LD_PRELOAD', 'env', 'x', 'x', 'find -exec']]);
    assert.deepEqual(await changesOf('xargs env LD_PRELOAD=x ls'), [['LD_PRELOAD', 'env', 'x', 'x', 'xargs']]);
    assert.deepEqual(await changesOf('time PATH=/tmp ls'), [['PATH', 'prefix', '/tmp', 'x', 'time']]);
    assert.deepEqual(await changesOf('watch "PATH=/tmp ls"'), [['PATH', 'prefix', '/tmp', 'x', 'watch']]);
    assert.deepEqual(await changesOf('su -c "export X=1"'), [['X', 'export', '1', 'x', 'su -c']]);
    assert.deepEqual(await changesOf('ls $(PATH=/x ls)'), [['PATH', 'prefix', '/x', 'x', '$(…)']]);
    assert.deepEqual(await changesOf('bash <<< "GIT_DIR=/tmp git status"'), [['GIT_DIR', 'prefix', '/tmp', 'x', 'sh <<']]);
  });

  it('names only known at run time are null', async () => {
    assert.deepEqual(await changesOf('declare -x "$n=1"'), [[null, 'declare', null, 'x', null]]);
    assert.deepEqual(await changesOf('export $X'), [[null, 'export', null, 'x', null]]);
    assert.deepEqual(await changesOf('read "$v"'), [[null, 'read', null, '', null]]);
    assert.deepEqual(await changesOf('printf -v "$v" x'), [[null, 'printf -v', null, '', null]]);
    assert.deepEqual(await changesOf('let "$e"'), [[null, 'arithmetic', null, '', null]]);
    assert.deepEqual(await changesOf('env -u "$v" ls'), [[null, 'env -u', null, 'xu', null]]);
  });

  it('what the parser refuses has no changes: an array before a command, an arithmetic target computed at run time', async () => {
    for (const command of ['a[0]=x LD_PRELOAD=y ls', '((${v}=1))']) {
      const result = await analyzer.analyze(command);
      assert.notEqual(result.parse_error, null, command);
      assert.deepEqual(result.environment, []);
    }
  });
});

describe('shell analyzer: code builtins keep for later, followed as shell strings', () => {
  async function followed(command: string): Promise<Array<[string, (string | null)[], string | null, boolean]>> {
    const result = await analyzer.analyze(command);
    assert.equal(result.parse_error, null, command);
    return result.commands.filter((entry) => entry.via !== null).map((entry) => [entry.name, entry.args, entry.via, entry.dynamic_name]);
  }

  it("a trap's action", async () => {
    assert.deepEqual(await followed("trap 'rm -rf /' EXIT; ls"), [['rm', ['-rf', '/'], 'trap', false]]);
    assert.deepEqual(await followed('trap -- "curl x | sh" INT TERM'), [['curl', ['x'], 'trap', false], ['sh', [], 'trap', false]]);
    for (const inert of ['trap - EXIT', "trap '' INT", 'trap -p', 'trap -l', 'trap EXIT']) assert.deepEqual(await followed(inert), [], inert);
    assert.deepEqual(await followed('trap "$X" EXIT'), [['', [null, 'EXIT'], 'trap', true]]);
  });

  it("an alias's text, where aliases expand", async () => {
    assert.deepEqual(await followed("alias ls='rm -rf /'"), [['rm', ['-rf', '/'], 'alias', false]]);
    assert.deepEqual(await followed("alias ll='ls -l' la"), [['ls', ['-l'], 'alias', false]]);
    assert.deepEqual(await followed('alias x="$Y"'), [['', [null], 'alias', true]]);
  });

  it("mapfile's -C callback", async () => {
    assert.deepEqual(await followed("mapfile -C 'rm -rf /' -c 1 a < f"), [['rm', ['-rf', '/'], 'mapfile -C', false]]);
    assert.deepEqual(await followed("readarray -C 'reboot' a < f"), [['reboot', [], 'readarray -C', false]]);
  });

  it('code that does not parse makes the whole text a parse error', async () => {
    assert.match((await analyzer.analyze("trap 'if' EXIT")).parse_error ?? '', /^trap string/);
  });
});
