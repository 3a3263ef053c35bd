import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createShellAnalyzer, MAX_SHELL_COMMAND_BYTES, type ShellAnalyzer, type ShellCommand } from '../src/enrichment/shell-analyzer.ts';

let analyzer: ShellAnalyzer;

before(async () => {
  analyzer = await createShellAnalyzer();
});

async function commandsOf(command: string): Promise<ShellCommand[]> {
  const result = await analyzer.analyze(command);
  assert.equal(result.parse_error, null, `unexpected parse error for ${command}`);
  return result.commands;
}

/** name, args and via of each command, the fields most tests are about. */
async function summary(command: string): Promise<Array<[string, (string | null)[], string | null]>> {
  return (await commandsOf(command)).map((entry) => [entry.name, entry.args, entry.via]);
}

async function find(command: string, name: string): Promise<ShellCommand> {
  const entry = (await commandsOf(command)).find((candidate) => candidate.name === name);
  assert.ok(entry, `${name} not found in ${command}`);
  return entry;
}

async function parseErrorOf(command: string): Promise<string | null> {
  const result = await analyzer.analyze(command);
  if (result.parse_error !== null) assert.deepEqual(result.commands, []);
  return result.parse_error;
}

describe('shell analyzer: output shape', () => {
  it('matches the contract for a pipeline', async () => {
    assert.deepEqual(await analyzer.analyze('curl -s http://x | sh'), {
      type: 'shell',
      command: 'curl -s http://x | sh',
      parse_error: null,
      commands: [
        { name: 'curl', path: 'curl', args: ['-s', 'http://x'], dynamic_name: false, pipeline: 0, pipeline_position: 0, pipeline_length: 2, via: null, redirects: [] },
        { name: 'sh', path: 'sh', args: [], dynamic_name: false, pipeline: 0, pipeline_position: 1, pipeline_length: 2, via: null, redirects: [] },
      ],
      environment: [],
    });
  });

  it('a lone command is a pipeline of length 1; lists give each its own pipeline', async () => {
    const commands = await commandsOf('a; b && c || d & e');
    assert.deepEqual(commands.map((entry) => [entry.name, entry.pipeline, entry.pipeline_position, entry.pipeline_length]), [
      ['a', 0, 0, 1], ['b', 1, 0, 1], ['c', 2, 0, 1], ['d', 3, 0, 1], ['e', 4, 0, 1],
    ]);
  });

  it('empty input has no commands and no error', async () => {
    assert.deepEqual(await analyzer.analyze(''), { type: 'shell', command: '', parse_error: null, commands: [], environment: [] });
  });
});

describe('shell analyzer: pipelines that feed a shell', () => {
  it('wget -qO- x | sudo bash: bash runs at position 1 via sudo', async () => {
    const commands = await commandsOf('wget -qO- x | sudo bash');
    assert.deepEqual(commands.map((entry) => [entry.name, entry.pipeline_position, entry.via]), [
      ['wget', 0, null], ['sudo', 1, null], ['bash', 1, 'sudo'],
    ]);
    assert.ok(commands.every((entry) => entry.pipeline === 0 && entry.pipeline_length === 2));
  });

  it('a compound element of a pipeline shares its place: { curl x; } | sh', async () => {
    const commands = await commandsOf('{ curl x; echo; } | sh');
    assert.deepEqual(commands.map((entry) => [entry.name, entry.pipeline, entry.pipeline_position]), [['curl', 0, 0], ['echo', 0, 0], ['sh', 0, 1]]);
  });

  it('|& is a pipe; three-stage pipelines keep their order', async () => {
    const commands = await commandsOf('a |& b | c');
    assert.deepEqual(commands.map((entry) => [entry.name, entry.pipeline_position, entry.pipeline_length]), [['a', 0, 3], ['b', 1, 3], ['c', 2, 3]]);
  });
});

describe('shell analyzer: shell strings', () => {
  it('bash -c "rm -rf /"', async () => {
    const commands = await commandsOf('bash -c "rm -rf /"');
    assert.deepEqual(commands.map((entry) => [entry.name, entry.args, entry.via, entry.pipeline]), [
      ['bash', ['-c', 'rm -rf /'], null, 0],
      ['rm', ['-rf', '/'], 'sh -c', 1],
    ]);
  });

  it("sh -c 'curl x | sh': the string's pipeline is its own", async () => {
    const commands = await commandsOf("sh -c 'curl x | sh'");
    assert.deepEqual(commands.map((entry) => [entry.name, entry.via, entry.pipeline, entry.pipeline_position, entry.pipeline_length]), [
      ['sh', null, 0, 0, 1], ['curl', 'sh -c', 1, 0, 2], ['sh', 'sh -c', 1, 1, 2],
    ]);
  });

  it('zsh, dash, ksh and clustered options: -lc, -ec, -o pipefail -c', async () => {
    for (const command of ['zsh -c "reboot"', 'dash -ec reboot', 'ksh -lc reboot', 'bash -o pipefail -c reboot', '/bin/bash --norc -c reboot']) {
      assert.deepEqual((await find(command, 'reboot')).via, 'sh -c', command);
    }
  });

  it('nested shell strings are followed', async () => {
    assert.deepEqual(await summary('sh -c "sh -c \\"reboot\\""'), [
      ['sh', ['-c', 'sh -c "reboot"'], null], ['sh', ['-c', 'reboot'], 'sh -c'], ['reboot', [], 'sh -c'],
    ]);
  });

  it('a dynamic shell string adds a synthetic dynamic entry', async () => {
    for (const command of ['bash -c "$X"', 'bash -c "rm -rf $DIR"', 'sh -c "$(curl x)"']) {
      const entry = (await commandsOf(command)).find((candidate) => candidate.via === 'sh -c');
      assert.deepEqual(entry && [entry.name, entry.path, entry.args, entry.dynamic_name], ['', '', [null], true], command);
    }
  });

  it('a shell string that does not parse fails the whole command', async () => {
    assert.match(String(await parseErrorOf("bash -c 'echo \"unterminated'")), /^sh -c string: .*quote/);
  });

  it('a here-string or here-document fed to a shell is parsed as its script', async () => {
    assert.deepEqual(await summary('bash <<< "rm -rf /"'), [['bash', [], null], ['rm', ['-rf', '/'], 'sh <<']]);
    assert.deepEqual(await summary("sh <<'EOF'\nmkfs.ext4 /dev/sdb\nEOF\n"), [['sh', [], null], ['mkfs.ext4', ['/dev/sdb'], 'sh <<']]);
    // expansions in an unquoted here-document happen before the shell reads it
    const dynamic = await commandsOf('sh <<EOF\nrm $TARGET\nEOF\n');
    assert.deepEqual(dynamic.map((entry) => [entry.name, entry.dynamic_name, entry.via]), [['sh', false, null], ['', true, 'sh <<']]);
  });

  it('standard input reaches a shell through wrappers, compound commands and shell strings', async () => {
    assert.deepEqual(await summary('sudo -s <<EOF\nrm -rf /\nEOF\n'), [['sudo', ['-s'], null], ['rm', ['-rf', '/'], 'sh <<']]);
    assert.deepEqual(await summary('su root <<< reboot'), [['su', ['root'], null], ['reboot', [], 'sh <<']]);
    assert.deepEqual(await summary('{ bash; } <<< halt'), [['bash', [], null], ['halt', [], 'sh <<']]);
    assert.deepEqual(await summary('bash -c bash <<< poweroff'), [['bash', ['-c', 'bash'], null], ['bash', [], 'sh -c'], ['poweroff', [], 'sh <<']]);
    // past the first element of a pipeline, standard input is the pipe
    assert.deepEqual(await summary('{ cat | bash; } <<< halt'), [['cat', [], null], ['bash', [], null]]);
    // the last redirection of standard input wins
    assert.deepEqual(await summary('bash <<< halt < script.sh'), [['bash', [], null]]);
  });

  it('a shell running a script file or reading a pipe stays a plain command', async () => {
    assert.deepEqual(await summary('bash deploy.sh'), [['bash', ['deploy.sh'], null]]);
  });
});

describe('shell analyzer: substitutions', () => {
  it('echo $(rm -rf /)', async () => {
    const commands = await commandsOf('echo $(rm -rf /)');
    assert.deepEqual(commands.map((entry) => [entry.name, entry.args, entry.via, entry.pipeline]), [
      ['echo', [null], null, 0], ['rm', ['-rf', '/'], '$(…)', 1],
    ]);
  });

  it('`reboot` in backquotes, as the command name', async () => {
    const commands = await commandsOf('`reboot`');
    assert.deepEqual(commands.map((entry) => [entry.name, entry.dynamic_name, entry.via]), [['`reboot`', true, null], ['reboot', false, '$(…)']]);
  });

  it('cat <(curl x) and tee >(nc x 1)', async () => {
    assert.equal((await find('cat <(curl x)', 'curl')).via, '<(…)');
    assert.equal((await find('tee >(nc x 1) < f', 'nc')).via, '>(…)');
  });

  it('substitutions in assignments, redirections, parameter expansions, arithmetic, [[ ]] and here-documents', async () => {
    const names = async (command: string): Promise<string[]> => (await commandsOf(command)).map((entry) => entry.name);
    assert.deepEqual(await names('X=$(id)'), ['id']);
    assert.deepEqual(await names('cat > "$(mktemp)"'), ['cat', 'mktemp']);
    assert.deepEqual(await names('echo ${X:-$(whoami)}'), ['echo', 'whoami']);
    // Arithmetic evaluates a substitution's output again, subscripts and all: an evaluated-text entry too.
    assert.deepEqual(await names('echo $(( $(nproc) + 1 ))'), ['echo', 'nproc', '']);
    assert.deepEqual(await names('[[ -n $(hostname) ]] && (( $(date +%s) > 0 ))'), ['hostname', 'date', '']);
    assert.deepEqual(await names('cat <<EOF\nuser: $(whoami) `id -u`\nEOF\n'), ['cat', 'whoami', 'id']);
    // a quoted delimiter turns expansion off
    assert.deepEqual(await names("cat <<'EOF'\n$(whoami)\nEOF\n"), ['cat']);
  });
});

describe('shell analyzer: compound commands and functions', () => {
  it('if true; then mkfs.ext4 /dev/sdb; fi', async () => {
    assert.deepEqual(await summary('if true; then mkfs.ext4 /dev/sdb; fi'), [['true', [], null], ['mkfs.ext4', ['/dev/sdb'], null]]);
  });

  it('while, until, for, select, case bodies and conditions', async () => {
    const names = (await commandsOf(
      'while a; do b; done; until c; do d; done; for i in $(e); do f; done; for ((n=0;n<2;n++)); do g; done; select s in x; do h; done; case $(i) in x) j;; *) k;; esac',
    )).map((entry) => entry.name);
    assert.deepEqual(names, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']);
  });

  it('f(){ shutdown -h now; }; f', async () => {
    assert.deepEqual(await summary('f(){ shutdown -h now; }; f'), [['shutdown', ['-h', 'now'], null], ['f', [], null]]);
  });

  it('subshells, negation, coproc and time', async () => {
    assert.deepEqual(await summary('(cd /; rm -rf tmp); ! grep x f; coproc w { sleep 1; }; time -p dd if=a of=b'), [
      ['cd', ['/'], null], ['rm', ['-rf', 'tmp'], null], ['grep', ['x', 'f'], null], ['sleep', ['1'], null],
      ['time', ['-p'], null], ['dd', ['if=a', 'of=b'], 'time'],
    ]);
  });

  it('declaration builtins and let are commands', async () => {
    assert.deepEqual(await summary('export PATH=/tmp:/bin X; declare -x Y=$(id); let n=1'), [
      ['export', ['PATH=/tmp:/bin', 'X'], null], ['declare', ['-x', null], null], ['id', [], '$(…)'], ['let', ['n=1'], null],
    ]);
  });
});

describe('shell analyzer: names and words', () => {
  it("quote removal: r''m, \"rm\", \\rm, $'\\x72m', r\\<newline>m", async () => {
    for (const command of ["r''m -rf /", '"rm" -rf /', '\\rm -rf /', "$'\\x72m' -rf /", 'r\\\nm -rf /', "'r'\"m\" -rf /"]) {
      assert.deepEqual(await summary(command), [['rm', ['-rf', '/'], null]], command);
    }
  });

  it('name is the basename of path', async () => {
    const entry = await find('/bin/rm -rf /', 'rm');
    assert.equal(entry.path, '/bin/rm');
  });

  it('$CMD -rf /: dynamic name, literal args kept', async () => {
    const [entry] = await commandsOf('$CMD -rf /');
    assert.deepEqual(entry && [entry.name, entry.path, entry.dynamic_name, entry.args], ['$CMD', '$CMD', true, ['-rf', '/']]);
  });

  it('globs and brace expansion in the name are dynamic', async () => {
    for (const command of ['r* -rf /', '/bin/r? x', '/bin/r[m] x', '{rm,ls} x', 'r{m,} x', '$(echo rm) x', '@(rm) x']) {
      assert.equal((await commandsOf(command))[0]?.dynamic_name, true, command);
    }
  });

  it('dynamic args are null; quoted glob characters and lone brackets are literal', async () => {
    const [entry] = await commandsOf('ls "$DIR" ${X} $((1+1)) *.log a{1,2} "*" \\? [ ] ~/x {} x=y');
    assert.deepEqual(entry?.args, [null, null, null, null, null, '*', '?', '[', ']', '~/x', '{}', 'x=y']);
  });

  it('eval is a plain command', async () => {
    assert.deepEqual(await summary('eval "$x"'), [['eval', [null], null]]);
  });

  it('assignments alone are not commands; before a command they are dropped', async () => {
    assert.deepEqual(await summary('X=1'), []);
    assert.deepEqual(await summary('X=1 Y=2 rm -rf /'), [['rm', ['-rf', '/'], null]]);
  });

  it('dd if=/dev/zero of=/dev/sda keeps its operands', async () => {
    assert.deepEqual(await summary('dd if=/dev/zero of=/dev/sda'), [['dd', ['if=/dev/zero', 'of=/dev/sda'], null]]);
  });
});

describe('shell analyzer: redirects', () => {
  it('operators with their file descriptors, dynamic targets null', async () => {
    const entry = await find('cmd >out 2>>err 2>&1 &>all <in >|clobber 3<>rw <<<"s" >"$F"', 'cmd');
    assert.deepEqual(entry.redirects, [
      { op: '>', target: 'out' }, { op: '2>>', target: 'err' }, { op: '2>&', target: '1' }, { op: '&>', target: 'all' },
      { op: '<', target: 'in' }, { op: '>|', target: 'clobber' }, { op: '3<>', target: 'rw' }, { op: '<<<', target: 's' },
      { op: '>', target: null },
    ]);
  });

  it('a redirect alone still appears, and compound redirects reach the commands inside', async () => {
    const [alone] = await commandsOf('> /etc/passwd');
    assert.deepEqual(alone && [alone.name, alone.dynamic_name, alone.redirects], ['', false, [{ op: '>', target: '/etc/passwd' }]]);
    assert.deepEqual((await find('(echo x) > /dev/sda', 'echo')).redirects, [{ op: '>', target: '/dev/sda' }]);
  });
});

describe('shell analyzer: wrappers', () => {
  it('/usr/bin/env rm -rf /etc', async () => {
    assert.deepEqual(await summary('/usr/bin/env rm -rf /etc'), [['env', ['rm', '-rf', '/etc'], null], ['rm', ['-rf', '/etc'], 'env']]);
  });

  it('a chain of wrappers with their options and operands skipped', async () => {
    const commands = await commandsOf('env -i -u HOME A=1 nice -n 5 timeout -s KILL 10 stdbuf -oL nohup ionice -c3 setsid chroot /mnt rm -rf /');
    assert.deepEqual(commands.map((entry) => [entry.name, entry.via]), [
      ['env', null], ['nice', 'env'], ['timeout', 'nice'], ['stdbuf', 'timeout'], ['nohup', 'stdbuf'], ['ionice', 'nohup'],
      ['setsid', 'ionice'], ['chroot', 'setsid'], ['rm', 'chroot'],
    ]);
    assert.deepEqual(commands.at(-1)?.args, ['-rf', '/']);
  });

  it('sudo and doas skip their options (-u user) and assignments', async () => {
    assert.deepEqual((await find('sudo -E -u root HOME=/root rm -rf /', 'rm')).via, 'sudo');
    assert.deepEqual((await find('sudo -uroot -- rm -rf /', 'rm')).args, ['-rf', '/']);
    assert.deepEqual((await find('sudo --user=root reboot', 'reboot')).via, 'sudo');
    assert.deepEqual((await find('doas -u root reboot', 'reboot')).via, 'doas');
    // sudo -l lists, sudo -e edits: nothing runs
    assert.deepEqual(await summary('sudo -l rm'), [['sudo', ['-l', 'rm'], null]]);
  });

  it('su -c STRING is parsed, with options anywhere', async () => {
    assert.deepEqual(await summary('su - root -c "halt -p"'), [['su', ['-', 'root', '-c', 'halt -p'], null], ['halt', ['-p'], 'su -c']]);
    assert.deepEqual(await summary('su postgres'), [['su', ['postgres'], null]]);
  });

  it('command, builtin, exec, time, watch', async () => {
    assert.deepEqual((await find('command -p rm x', 'rm')).via, 'command');
    assert.deepEqual(await summary('command -v rm'), [['command', ['-v', 'rm'], null]]);
    assert.deepEqual((await find('builtin eval x', 'eval')).via, 'builtin');
    assert.deepEqual((await find('exec -a name rm x', 'rm')).args, ['x']);
    assert.deepEqual((await find('/usr/bin/time -f %e rm x', 'rm')).via, 'time');
    assert.deepEqual(await summary('watch -n 1 "ps aux | grep x"'), [
      ['watch', ['-n', '1', 'ps aux | grep x'], null], ['ps', ['aux'], 'watch'], ['grep', ['x'], 'watch'],
    ]);
  });

  it('xargs rm and xargs with options', async () => {
    assert.deepEqual(await summary('xargs rm'), [['xargs', ['rm'], null], ['rm', [], 'xargs']]);
    assert.deepEqual((await find('find . | xargs -0 -I{} -n 1 -P4 sh -c "rm {}"', 'rm')).via, 'sh -c');
    assert.equal((await find('ls | xargs -r rm', 'rm')).pipeline_position, 1);
  });

  it('find / -exec rm {} \\; and the other exec primaries', async () => {
    assert.deepEqual(await summary('find / -exec rm {} \\;'), [['find', ['/', '-exec', 'rm', '{}', ';'], null], ['rm', ['{}'], 'find -exec']]);
    const commands = await commandsOf('find . -name "*.tmp" -execdir shred -u {} + -ok rm {} ";"');
    assert.deepEqual(commands.slice(1).map((entry) => [entry.name, entry.args, entry.via]), [
      ['shred', ['-u', '{}'], 'find -execdir'], ['rm', ['{}'], 'find -ok'],
    ]);
  });

  it('env -S splits its string into the command', async () => {
    assert.deepEqual((await find('env -S "rm -rf" /tmp', 'rm')).args, ['-rf', '/tmp']);
  });

  it('where the wrapped command cannot be located, a synthetic dynamic entry says so', async () => {
    for (const [command, via] of [['sudo $OPTS rm', 'sudo'], ['timeout $T rm -rf /', 'timeout'], ['env $VARS rm', 'env'], ['sudo --frobnicate x rm', 'sudo'], ['find $DIR -name x', 'find -exec']]) {
      const synthetic = (await commandsOf(command as string)).find((entry) => entry.via === via);
      assert.deepEqual(synthetic && [synthetic.name, synthetic.dynamic_name], ['', true], command);
    }
    // a quoted expansion cannot become extra words, so find's command is known
    assert.deepEqual(await summary('find "$DIR" -name x -delete'), [['find', [null, '-name', 'x', '-delete'], null]]);
  });

  it('a dynamic wrapped command name is dynamic', async () => {
    const entry = (await commandsOf('sudo /opt/$TOOL --force')).at(-1);
    assert.deepEqual(entry && [entry.name, entry.path, entry.dynamic_name, entry.via], ['$TOOL', '/opt/$TOOL', true, 'sudo']);
    // "$TOOL" right after sudo could be one of sudo's options: cannot tell, synthetic entry
    const synthetic = (await commandsOf('sudo "$TOOL" --force')).at(-1);
    assert.deepEqual(synthetic && [synthetic.name, synthetic.dynamic_name, synthetic.args], ['', true, [null, '--force']]);
  });
});

describe('shell analyzer: failures', () => {
  it('unterminated quote → parse_error', async () => {
    assert.match(String(await parseErrorOf('echo "unterminated')), /quote/);
  });

  it('other syntax errors → parse_error', async () => {
    for (const command of ['if true; then', 'a |', 'cat <<EOF\nabc', 'echo $((1+))', ')']) {
      assert.notEqual(await parseErrorOf(command), null, command);
    }
  });

  it('oversize input → parse_error without parsing', async () => {
    assert.match(String(await parseErrorOf(`echo ${'a'.repeat(MAX_SHELL_COMMAND_BYTES)}`)), /longer than/);
  });

  it('deep nesting, long wrapper chains and too many commands → parse_error, never a throw', async () => {
    assert.match(String(await parseErrorOf(`${'$('.repeat(3000)}x${')'.repeat(3000)}`)), /too deeply/);
    assert.match(String(await parseErrorOf(`${'('.repeat(20000)}x${')'.repeat(20000)}`)), /too deeply/);
    assert.match(String(await parseErrorOf(`${'sudo '.repeat(40)}rm`)), /too deeply/);
    assert.match(String(await parseErrorOf('a;'.repeat(20000))), /more than/);
  });

  it('the analyzer keeps working after failures', async () => {
    await parseErrorOf(`${'('.repeat(20000)}x${')'.repeat(20000)}`);
    assert.deepEqual(await summary('ls'), [['ls', [], null]]);
  });

  it('text that is not valid Unicode, and a non-string, are parse errors', async () => {
    assert.notEqual(await parseErrorOf('echo \uD800'), null);
    assert.match(String(await parseErrorOf('rm -rf /tmp/x\0/../..')), /NUL/);
    assert.notEqual(await parseErrorOf(42 as unknown as string), null);
  });

  it('non-ASCII text survives the parser', async () => {
    assert.deepEqual(await summary('echo héllo ☃ "ü$(printf é)"'), [['echo', ['héllo', '☃', null], null], ['printf', ['é'], '$(…)']]);
  });
});

describe('repeated commands', () => {
  it('answer the same analysis again, frozen so no decision can change what a later one reads', async () => {
    const first = await analyzer.analyze('cat /var/log/app.log | grep ERROR');
    const second = await analyzer.analyze('cat /var/log/app.log | grep ERROR');
    assert.deepEqual(second, first);
    assert.ok(Object.isFrozen(second) && Object.isFrozen(second.commands[0]!.args), 'a kept analysis is frozen all the way down');
    assert.throws(() => {
      (second.commands[0]!.args as (string | null)[]).push('/etc/shadow');
    }, TypeError);
    assert.deepEqual((await analyzer.analyze('cat /var/log/app.log | grep ERROR')).commands[0]!.args, ['/var/log/app.log']);
    assert.deepEqual((await analyzer.analyze('cat /var/log/other.log | grep ERROR')).commands[0]!.args, ['/var/log/other.log'], 'another text is analysed on its own');
  });
});
