import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createShellAnalyzer, type ShellAnalyzer } from '../src/enrichment/shell-analyzer.ts';

/**
 * Text bash evaluates again (arithmetic, variable names, prompts) runs the command substitutions
 * in it even when the parse read it as a quoted literal. Each case here was checked against
 * bash 5.2: the substitution runs.
 */
let analyzer: ShellAnalyzer;

before(async () => {
  analyzer = await createShellAnalyzer();
});

/** The args of the evaluated-text entries (via "arithmetic"), which must be dynamic. */
async function evaluatedTexts(command: string): Promise<(string | null)[]> {
  const result = await analyzer.analyze(command);
  assert.equal(result.parse_error, null, `unexpected parse error for ${command}`);
  const entries = result.commands.filter((entry) => entry.via === 'arithmetic');
  for (const entry of entries) assert.equal(entry.dynamic_name, true, command);
  return entries.flatMap((entry) => entry.args);
}

const CODE = '$(touch /tmp/x)';

describe('shell analyzer: quoted text bash evaluates as a name or arithmetic', () => {
  const cases: Array<[string, string]> = [
    [`test -v 'a[${CODE}]'`, `a[${CODE}]`],
    ["test -v 'a[`touch /tmp/x`]'", 'a[`touch /tmp/x`]'],
    [`[ -v 'a[${CODE}]' ]`, `a[${CODE}]`],
    [`[[ -v 'a[${CODE}]' ]] && ls`, `a[${CODE}]`],
    [`[[ -R 'a[${CODE}]' ]]`, `a[${CODE}]`],
    [`ls; [[ 'a[${CODE}]' -eq 1 ]]`, `a[${CODE}]`],
    [`[[ 1 -lt "a[${CODE.replace('$', '\\$')}]" ]]`, `a[${CODE}]`],
    [`(( 'a[${CODE}]' ))`, `a[${CODE}]`],
    [`echo $(( "a[\\${CODE}]" ))`, `a[${CODE}]`],
    [`let 'a[${CODE}]=1'`, `a[${CODE}]=1`],
    [`command let 'a[${CODE}]=1'`, `a[${CODE}]=1`],
    [`a=(1); echo \${a['${CODE}']}`, CODE],
    [`a['${CODE}']=1`, CODE],
    [`printf -v 'a[${CODE}]' x`, `a[${CODE}]`],
    [`read 'a[${CODE}]' <<<1`, `a[${CODE}]`],
    [`read -a 'a[${CODE}]' <<<1`, `a[${CODE}]`],
    [`mapfile 'a[${CODE}]' </dev/null`, `a[${CODE}]`],
    [`unset 'a[${CODE}]'`, `a[${CODE}]`],
    [`declare 'a[${CODE}]=1'`, `a[${CODE}]=1`],
    [`wait -p 'a[${CODE}]'`, `a[${CODE}]`],
    [`declare -n r='a[${CODE}]'; echo $r`, `a[${CODE}]`],
    [`bash -c "test -v 'a[\\${CODE}]'"`, `a[${CODE}]`],
    [`echo $(( \${x:-'a[${CODE}]'} ))`, `a[${CODE}]`],
  ];
  for (const [command, text] of cases) {
    it(command, async () => {
      assert.ok((await evaluatedTexts(command)).includes(text), `${text} not listed`);
    });
  }
});

describe('shell analyzer: variables whose values bash evaluates', () => {
  const cases: Array<[string, string]> = [
    [`x='a[${CODE}]'; echo $((x))`, '$x'],
    [`x='a[${CODE}]'; echo $(($x))`, '$x'],
    [`x='a[${CODE}]'; echo $[x]`, '$x'],
    [`x='a[${CODE}]'; (( x ))`, '$x'],
    [`x='a[${CODE}]'; let y=x`, '$x'],
    [`x='a[${CODE}]'; echo \${s:x}`, '$x'],
    [`x='a[${CODE}]'; echo \${b[x]}`, '$x'],
    [`x='a[${CODE}]'; b[x]=1`, '$x'],
    [`x='a[${CODE}]'; [[ $x -eq 0 ]]`, '$x'],
    [`x='a[${CODE}]'; [[ x -eq 0 ]]`, '$x'],
    [`x='a[${CODE}]'; for ((i=x;0;)); do :; done`, '$x'],
    [`x='a[${CODE}]'; declare -i z=x`, '$x'],
    [`declare -i y; y='a[${CODE}]'`, '$y'],
    [`r='a[${CODE}]'; echo \${!r}`, '$r'],
    [`x='${CODE}'; echo \${x@P}`, '$x'],
    [`x=y; y='a[${CODE}]'; echo $((x))`, '$y'],
    [`x='a['; y='${CODE}]'; echo $(($x$y))`, '$x'],
    // Values the text does not show: read, a substitution's output, positional parameters, $_.
    ['read x; echo $((x))', '$x'],
    ['declare -i n; read n', '$n'],
    ['x=$(cat /tmp/f); echo $((x + 1))', '$x'],
    ['for x in $(cat /tmp/f); do echo $((x)); done', '$x'],
    ['echo $(( $(cat /tmp/f) ))', '$(cat /tmp/f)'],
    ["set -- 'a[$(id)]'; echo $(($1))", '$1'],
    ["echo 'a[$(id)]'; echo $((_))", '$_'],
  ];
  for (const [command, text] of cases) {
    it(command, async () => {
      assert.ok((await evaluatedTexts(command)).includes(text), `${text} not listed in ${JSON.stringify(await evaluatedTexts(command))}`);
    });
  }
});

describe('shell analyzer: a quoted (…) value a declaration gives an array is a compound assignment', () => {
  const cases: Array<[string, string]> = [
    [`declare -a a='(${CODE})'`, `(${CODE})`],
    [`declare -a a='([${CODE}]=1)'`, `([${CODE}]=1)`],
    [`declare -A a='([k]=${CODE})'`, `([k]=${CODE})`],
    [`a=(); declare a='(${CODE})'`, `(${CODE})`],
    ["typeset -a a='(`touch /tmp/x`)'", '(`touch /tmp/x`)'],
    [`export -a a='(${CODE})'`, `(${CODE})`],
    [`f(){ local -a 'a=([${CODE}]=1)'; }; f`, `a=([${CODE}]=1)`],
    [`command declare -a a='(${CODE})'`, `a=(${CODE})`],
    ['declare -a a=$(cat /tmp/f)', '$(cat /tmp/f)'],
    [`x='(${CODE})'; declare -a a=$x`, '$x'],
    ['x=$(cat /tmp/f); declare -a b=$x', '$x'],
  ];
  for (const [command, text] of cases) {
    it(command, async () => {
      assert.ok((await evaluatedTexts(command)).includes(text), `${text} not listed in ${JSON.stringify(await evaluatedTexts(command))}`);
    });
  }
});

describe('shell analyzer: text bash evaluates that holds no code', () => {
  for (const command of [
    'for i in 1 2 3; do echo $((i * 2)); done',
    '((i=0)); while ((i<3)); do ((i++)); done',
    'i=1; echo $((i + 1)); a=(x y); echo ${a[@]} ${#a[@]} ${a[i]} ${a[*]}',
    'echo $((1 + 2)) ${s:1:2}',
    "grep '[0-9]$' /var/log/syslog",
    "x='[a-z]$'; grep \"$x\" /var/log/syslog",
    'x=$(date); echo "$x" ${x@Q}',
    'read -r line; echo "$line"',
    'test -n x && [ -f /etc/hosts ] && [[ -v HOME ]]',
    'declare -i n=5; echo $n',
    'f(){ local out=$(date); declare x=$(hostname); echo "$out $x"; }; f',
    'declare -a arr=(1 2 3); declare msg=hello',
    "printf '%d\\n' 5",
  ]) {
    it(command, async () => {
      assert.deepEqual(await evaluatedTexts(command), []);
    });
  }
});
