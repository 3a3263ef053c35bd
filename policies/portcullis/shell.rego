# Shell commands on SSH hosts, judged command by command from the PDP's parse (every simple
# command of every pipeline, list, subshell, substitution, function and wrapper).
package portcullis.shell

import data.portcullis.fields
import data.portcullis.identity

rules := data.portcullis.shell_rules

commands := c if {
	c := input.action.commands
	is_array(c)
} else := []

findings contains {
	"effect": "deny",
	"code": "shell-parse-error",
	"message": "the shell parser rejected the command text",
} if {
	not fields.field(input.action, "parse_error") == null
}

findings contains {
	"effect": "deny",
	"code": "shell-no-commands",
	"message": "the command text holds no command to judge",
} if {
	count(commands) == 0
}

# --- per-command class: dynamic (deny), read (reader) or change (writer, approval in production) ---

command_class(cmd) := "dynamic" if {
	not fields.field(cmd, "dynamic_name") == false
} else := "dynamic" if {
	not is_string(fields.field(cmd, "name"))
} else := "read" if {
	read_only(cmd)
} else := "change"

# The PDP reports a redirection without a command ("> file") as a command named "".
command_label(cmd) := "a bare redirection" if {
	cmd.name == ""
} else := cmd.name

classes := [command_class(cmd) | some cmd in commands]

needs contains "read" if "read" in classes

needs contains "write" if "change" in classes

needs contains "write" if {
	some cmd in commands
	privileged(cmd)
}

findings contains {
	"effect": "deny",
	"code": "shell-dynamic-command-name",
	"message": "a command whose name is only known at run time cannot be judged",
} if {
	"dynamic" in classes
}

# Text bash evaluates again as arithmetic, a variable name or a prompt ("test -v 'a[$(cmd)]'",
# x='a[$(cmd)]'; $((x))) runs the command substitutions in it: the PDP lists each such text that
# may hold code as a dynamic entry via "arithmetic" (docs/policy-input.md).
findings contains {
	"effect": "deny",
	"code": "shell-evaluated-text-code",
	"message": concat("", ["bash evaluates ", fields.text(cmd, "path"), " again at run time and would run any command substitution in it"]),
} if {
	some cmd in commands
	cmd.via == "arithmetic"
	not fields.field(cmd, "dynamic_name") == false
}

findings contains {
	"effect": "allow",
	"code": "shell-read-only-command",
	"message": "read-only shell command",
} if {
	"read" in classes
}

findings contains {
	"effect": "approval_required",
	"code": "shell-command-requires-approval",
	"message": concat("", ["running ", command_label(cmd), " here needs approval"]),
	"approval": "default",
} if {
	some cmd in commands
	command_class(cmd) == "change"
	identity.changes_need_approval
}

findings contains {
	"effect": "allow",
	"code": "shell-command-allowed",
	"message": "shell command that may change the host",
} if {
	"change" in classes
	not identity.changes_need_approval
}

# sudo, su and doas (or anything they run) act as another user: always approved first.
findings contains {
	"effect": "approval_required",
	"code": "shell-privilege-escalation-requires-approval",
	"message": "running a command as another user needs approval",
	"approval": "default",
} if {
	some cmd in commands
	privileged(cmd)
}

privileged(cmd) if cmd.name in rules.privilege_commands

privileged(cmd) if cmd.via in rules.privilege_commands

# --- the environment: assignments that change what a command loads or runs ---
#
# The PDP lists every variable the text sets, exports or removes, by any route (prefix and bare
# assignments, env and its options, export/declare/typeset/readonly/local, +=, arrays, read,
# printf -v, mapfile, getopts, for, ${X:=…}, arithmetic, sudo, exec -c, set -a, inside sh -c and
# wrappers alike: docs/policy-input.md). Names that make every program (or the shell itself) load
# or run other code, or read text differently, are denied to everyone while they are set:
# the dynamic loader (LD_*, GCONV_PATH, GLIBC_TUNABLES …), shell start-up and prompt code
# (BASH_ENV, ENV, PS4, PROMPT_COMMAND, BASH_FUNC_*), shell options (SHELLOPTS, BASHOPTS). Any other
# variable that reaches the environment of what runs (PATH, IFS, PYTHONPATH, PERL5LIB, NODE_OPTIONS,
# RUBYOPT, GIT_*, HOME, EDITOR, PAGER … and the whole environment: env -i, sudo -E, set -a)
# makes the command a change, unless it is one of a few harmless names (locale, time zone,
# terminal size). A variable set without being exported still reaches what runs when the host
# already exports it, which the PDP cannot see: names in upper case count as exported;
# names with a lower-case letter are the shell's own.

env_rules := data.portcullis.shell_environment

environment := e if {
	e := input.action.environment
	is_array(e)
} else := []

findings contains {
	"effect": "deny",
	"code": "shell-environment-code",
	"message": concat("", ["setting ", change.name, " changes the code every program or the shell loads or runs"]),
} if {
	some change in environment
	not change.unset == true
	code_variable(change.name)
}

findings contains {
	"effect": "deny",
	"code": "shell-environment-dynamic-name",
	"message": concat("", [fields.text(change, "route"), " changes a variable whose name is only known at run time"]),
} if {
	some change in environment
	not is_string(fields.field(change, "name"))
}

code_variable(name) if name in env_rules.code_names

code_variable(name) if {
	is_string(name)
	some prefix in env_rules.code_prefixes
	startswith(name, prefix)
}

environment_changes := [change.name |
	some change in environment
	is_string(change.name)
	reaches_what_runs(change)
	not harmless_variable(change.name)
]

reaches_what_runs(change) if change.exported == true

reaches_what_runs(change) if not regex.match(env_rules.shell_local_name_pattern, change.name)

harmless_variable(name) if name in env_rules.harmless_names

harmless_variable(name) if {
	some prefix in env_rules.harmless_prefixes
	startswith(name, prefix)
}

findings contains {
	"effect": "approval_required",
	"code": "shell-environment-change-requires-approval",
	"message": concat("", ["changing ", concat(", ", sort({n | some n in environment_changes})), " changes what commands load or run: it needs approval here"]),
	"approval": "default",
} if {
	count(environment_changes) > 0
	identity.changes_need_approval
}

findings contains {
	"effect": "allow",
	"code": "shell-environment-change-allowed",
	"message": concat("", ["changing ", concat(", ", sort({n | some n in environment_changes}))]),
} if {
	count(environment_changes) > 0
	not identity.changes_need_approval
}

needs contains "write" if count(environment_changes) > 0

# enable -f FILE NAME loads a shared object into the shell as a builtin: code, as LD_PRELOAD is.
findings contains {
	"effect": "deny",
	"code": "shell-environment-code",
	"message": "enable -f loads a shared object into the shell",
} if {
	some cmd in commands
	cmd.name == "enable"
	some a in cmd.args
	loads_builtin(a)
}

loads_builtin(a) if not is_string(a)

loads_builtin(a) if {
	startswith(a, "-")
	not startswith(a, "--")
	contains(a, "f")
}

# --- the read-only allow-list ---

read_only(cmd) if {
	spec := rules.read_only_commands[cmd.name]
	trusted_path(cmd)
	is_array(cmd.args)
	not writes_output(cmd)
	not names_secret_path(cmd)
	not arguments_from_elsewhere(cmd, spec)
	args_permitted(cmd.args, spec)
}

# xargs appends words read from its standard input (or -a FILE) to the command it runs: words
# no decision sees, which may be any option ("xargs find ." fed "-exec sh -c …"). Such a
# command is read-only only when its spec restricts nothing.
arguments_from_elsewhere(cmd, spec) if {
	cmd.via in rules.argument_appending_wrappers
	count(spec) > 0
}

# A path outside the system binary directories ("./ls", "/tmp/cat") is not the tool the
# allow-list means.
trusted_path(cmd) if cmd.path == cmd.name

trusted_path(cmd) if {
	some dir in rules.trusted_command_dirs
	cmd.path == concat("", [dir, cmd.name])
}

writes_output(cmd) if not is_array(fields.field(cmd, "redirects"))

writes_output(cmd) if {
	some r in cmd.redirects
	output_redirect(r)
	not harmless_target(r)
}

output_redirect(r) if contains(fields.text(r, "op"), ">")

# A redirect whose op cannot be read counts as an output.
output_redirect(r) if fields.text(r, "op") == ""

harmless_target(r) if r.target in rules.harmless_redirect_targets

# 2>&1 and friends duplicate a descriptor rather than open a file.
harmless_target(r) if {
	contains(r.op, ">&")
	is_string(r.target)
	regex.match(`^([0-9]+|-)$`, r.target)
}

# Dynamic words are only acceptable for commands with no argument restrictions at all.
args_permitted(args, spec) if {
	count(spec) == 0
} else if {
	every a in args {
		is_string(a)
		not forbidden_arg(a, spec)
	}
	options_permitted(args, spec)
	operands_match(args, spec)
	count(read_operands(args, spec)) <= object.get(spec, "max_operands", count(args))
	subcommand_permitted(args, spec)
	operand_present_if_required(args, spec)
}

forbidden_arg(a, spec) if a in object.get(spec, "forbidden_args", [])

forbidden_arg(a, spec) if {
	some prefix in object.get(spec, "forbidden_arg_prefixes", [])
	startswith(a, prefix)
}

# GNU getopt_long takes any unambiguous abbreviation: "--o=x" and "--out" are --output.
forbidden_arg(a, spec) if {
	startswith(a, "--")
	name := long_option_name(a)
	count(name) > 2
	some prefix in object.get(spec, "forbidden_arg_prefixes", [])
	startswith(prefix, "--")
	startswith(prefix, name)
}

# A forbidden short option ("-s") counts anywhere in a bundle ("-us").
forbidden_arg(a, spec) if {
	startswith(a, "-")
	not startswith(a, "--")
	some prefix in object.get(spec, "forbidden_arg_prefixes", [])
	count(prefix) == 2
	startswith(prefix, "-")
	contains(substring(a, 1, -1), substring(prefix, 1, 1))
}

long_option_name(a) := substring(a, 0, indexof(a, "=")) if {
	contains(a, "=")
} else := a

# Short flags can be bundled ("-ro"), so look for the letter anywhere in a single-dash word.
forbidden_arg(a, spec) if {
	startswith(a, "-")
	not startswith(a, "--")
	some flag in object.get(spec, "forbidden_short_flags", [])
	contains(a, flag)
}

subcommand_permitted(_, spec) if not spec.subcommands

subcommand_permitted(args, spec) if count(read_operands(args, spec)) == 0

subcommand_permitted(args, spec) if read_operands(args, spec)[0] in spec.subcommands

# A wrapper (env, nice, timeout, xargs) is read-only only when it wraps a command, which the
# PDP lists and policy judges on its own; bare "env" would print the environment's secrets.
operand_present_if_required(_, spec) if not spec.requires_operand == true

operand_present_if_required(args, spec) if {
	some a in read_operands(args, spec)
	not contains(a, "=")
}

# --- destructive commands: denied for everyone ---

findings contains {
	"effect": "deny",
	"code": "shell-eval",
	"message": concat("", [cmd.name, " runs text the policy cannot see"]),
} if {
	some cmd in commands
	cmd.name in rules.always_denied_commands
}

# A shell, exec or source whose code (its first operand, or the -c string) is only known at run
# time: "bash -c \"$(curl …)\"", "source <(wget …)", "exec $CMD".
findings contains {
	"effect": "deny",
	"code": "shell-dynamic-code",
	"message": concat("", [cmd.name, " would run code only known at run time"]),
} if {
	some cmd in commands
	cmd.name in rules.code_runners
	dynamic_code(cmd.args)
}

dynamic_code(args) if {
	operand_indexes := [i | some i, w in args; not flag_word(w)]
	args[operand_indexes[0]] == null
}

# -c, -ec, -xc …: the word after the flag is the code.
dynamic_code(args) if {
	some i, w in args
	flag_word(w)
	not startswith(w, "--")
	contains(w, "c")
	args[i + 1] == null
}

flag_word(w) if {
	is_string(w)
	startswith(w, "-")
}

findings contains {
	"effect": "deny",
	"code": "shell-recursive-rm-of-system-path",
	"message": concat("", ["recursive rm of ", target, " is forbidden"]),
} if {
	some cmd in commands
	recursive_rm(cmd)
	some target in cmd.args
	is_string(target)
	protected_path(target)
}

findings contains {
	"effect": "deny",
	"code": "shell-recursive-rm-of-unknown-path",
	"message": "recursive rm of a path only known at run time is forbidden",
} if {
	some cmd in commands
	recursive_rm(cmd)
	some target in cmd.args
	target == null
}

findings contains {
	"effect": "deny",
	"code": "shell-rm-no-preserve-root",
	"message": "rm --no-preserve-root is forbidden",
} if {
	some cmd in commands
	cmd.name == "rm"
	"--no-preserve-root" in cmd.args
}

recursive_rm(cmd) if {
	cmd.name == "rm"
	some a in cmd.args
	recursive_flag(a)
}

recursive_flag("--recursive")

recursive_flag(a) if {
	is_string(a)
	startswith(a, "-")
	not startswith(a, "--")
	regex.match(`[rR]`, a)
}

# "/", "//", "/*", "/etc/", "/etc/*" all name the root or a top-level system directory, and
# "~", "~/" the home directory. A ".." in an absolute path is not resolved here, so it counts
# as protected. Relative paths depend on a working directory policy cannot see; they are
# ordinary changes.
protected_path(target) if {
	startswith(target, "/")
	concat("", ["/", trim_left(trim_right(target, "/*."), "/")]) in rules.recursive_rm_protected_paths
}

protected_path(target) if {
	startswith(target, "~")
	trim_right(target, "/*.") in rules.recursive_rm_protected_paths
}

protected_path(target) if {
	startswith(target, "/")
	contains(target, "..")
}

findings contains {
	"effect": "deny",
	"code": "shell-destructive-command",
	"message": concat("", [cmd.name, " is forbidden"]),
} if {
	some cmd in commands
	destructive_name(cmd.name)
}

destructive_name(name) if name in rules.destructive_commands

destructive_name(name) if {
	some prefix in rules.destructive_command_prefixes
	startswith(name, prefix)
}

findings contains {
	"effect": "deny",
	"code": "shell-destructive-command",
	"message": concat("", [cmd.name, " ", level, " halts or reboots the host"]),
} if {
	some cmd in commands
	cmd.name in rules.runlevel_commands
	some level in cmd.args
	level in rules.destructive_runlevels
}

findings contains {
	"effect": "deny",
	"code": "shell-destructive-command",
	"message": concat("", ["systemctl ", sub, " is forbidden"]),
} if {
	some cmd in commands
	cmd.name == "systemctl"
	some sub in cmd.args
	sub in rules.destructive_systemctl_subcommands
}

findings contains {
	"effect": "deny",
	"code": "shell-dd-to-device",
	"message": concat("", ["dd writing to ", device, " is forbidden"]),
} if {
	some cmd in commands
	cmd.name == "dd"
	some a in cmd.args
	is_string(a)
	startswith(a, "of=/dev/")
	device := substring(a, 3, -1)
	not device in rules.dd_allowed_outputs
}

findings contains {
	"effect": "deny",
	"code": "shell-redirect-to-block-device",
	"message": concat("", ["writing to ", r.target, " is forbidden"]),
} if {
	some cmd in commands
	some r in cmd.redirects
	output_redirect(r)
	is_string(r.target)
	some prefix in rules.block_device_prefixes
	startswith(r.target, prefix)
}

findings contains {
	"effect": "deny",
	"code": "shell-download-piped-to-interpreter",
	"message": concat("", [download.name, " output piped into ", runner.name, " is forbidden"]),
} if {
	some download in commands
	download.name in rules.downloaders
	some runner in commands
	runner.pipeline == download.pipeline
	runner.pipeline_position > download.pipeline_position
	interpreter(runner.name)
}

interpreter(name) if name in rules.interpreters

interpreter(name) if {
	is_string(name)
	some prefix in rules.interpreter_prefixes
	startswith(name, prefix)
}

interpreter(name) if interpreter_spec(name)

# --- code an interpreter reads from a pipe, standard input or a file descriptor ---
#
# "cat x | bash", "echo … | base64 -d | sh", "python3" alone, "bash /dev/stdin", ". /proc/self/fd/0":
# the program is whatever arrives on a descriptor, which the policy never sees (unlike a script
# file already on the host, which stays an ordinary change). The option syntax of each
# interpreter family is in data (shell_rules.program_interpreters): which flags carry inline code
# (-c, -e), name the program another way (-m, -f) or make it exit without running one
# (--version), which take a value, and which read standard input anyway (-s, -i).

# Every interpreter command with where its program comes from, worked out once per decision.
interpreter_runs := [run |
	some cmd in commands
	spec := interpreter_spec(cmd.name)
	run := object.union(program_facts(cmd.args, spec), {"cmd": cmd})
]

findings contains {
	"effect": "deny",
	"code": hidden_code_code(run.cmd),
	"message": hidden_code_message(run.cmd),
} if {
	some run in interpreter_runs
	run.source == "stdin"
	not stdin_visible(run.cmd)
}

findings contains {
	"effect": "deny",
	"code": hidden_code_code(run.cmd),
	"message": hidden_code_message(run.cmd),
} if {
	some run in interpreter_runs
	run.source == "descriptor"
}

# The program (inline code, module, script) of any interpreter, not only shells, built at run
# time: "python3 <(curl …)", "perl -e \"$CODE\"", "php -f \"$F\"".
findings contains {
	"effect": "deny",
	"code": "shell-dynamic-code",
	"message": concat("", [run.cmd.name, " would run code only known at run time"]),
} if {
	some run in interpreter_runs
	run.source == "dynamic"
}

# xargs -I{} sh -c '{}' / xargs -I% python3 %: the input lines become the code or the script.
findings contains {
	"effect": "deny",
	"code": hidden_code_code(run.cmd),
	"message": concat("", ["xargs would put its input into the program ", run.cmd.name, " runs"]),
} if {
	some run in interpreter_runs
	run.cmd.via == rules.xargs.name
	some token in xargs_replace_strings[[run.cmd.pipeline, run.cmd.pipeline_position]]
	some word in run.words
	is_string(word)
	contains(word, token)
}

# sudo -s, su, doas -s, chroot DIR without a command start a shell that reads standard input:
# in a pipeline that is the pipe. (Alone, sudo/su/doas need approval anyway; chroot does not.)
findings contains {
	"effect": "deny",
	"code": "shell-code-from-pipe",
	"message": concat("", [cmd.name, " would start a shell running code fed to it through a pipe"]),
} if {
	some cmd in commands
	not cmd.pipeline_position == 0
	starts_shell_on_stdin(cmd)
}

findings contains {
	"effect": "deny",
	"code": "shell-code-from-stdin",
	"message": concat("", [cmd.name, " would start a shell running code read from standard input"]),
} if {
	some cmd in commands
	cmd.pipeline_position == 0
	not cmd.name in rules.privilege_commands
	starts_shell_on_stdin(cmd)
	not stdin_visible(cmd)
}

hidden_code_code(cmd) := "shell-code-from-pipe" if {
	cmd.pipeline_position > 0
} else := "shell-code-from-stdin"

hidden_code_message(cmd) := concat("", [cmd.name, " would run code fed to it through a pipe, which the policy cannot see"]) if {
	cmd.pipeline_position > 0
} else := concat("", [cmd.name, " would run code read from standard input or a file descriptor, which the policy cannot see"])

# The family spec of an interpreter (the first that names it), undefined for other commands. A
# name prefix matches the prefix followed by a version only: python3, python3.12, perl5.36.
interpreter_spec(name) := specs[0] if {
	is_string(name)
	specs := [s | some s in rules.program_interpreters; interpreter_named(s, name)]
	count(specs) > 0
}

interpreter_named(spec, name) if name in spec_list(spec, "names")

interpreter_named(spec, name) if {
	some prefix in spec_list(spec, "name_prefixes")
	startswith(name, prefix)
	trim_right(substring(name, count(prefix), -1), "0123456789.") == ""
}

spec_list(spec, key) := object.get(spec, key, [])

listed(value, spec, key) := count([1 | value in spec_list(spec, key)]) > 0

# Where the program comes from ("source"), and the words that are or name it ("words"):
#   "dynamic"    built at run time, or arguments that cannot be read
#   "descriptor" a script operand that is /dev/stdin, /dev/fd/N, /proc/self/fd/0, /dev/tty …
#   "stdin"      no program given, "-", -s, an interactive flag, or a code flag without its code
#   "visible"    inline code, a module, a script file, or no program at all (--version)
program_facts(args, spec) := {"source": program_source(facts, spec), "words": facts.words} if {
	is_array(args)
	infos := [word_info(w, spec) | some w in args]
	operand := first_operand(args, infos)
	has_operand := operand < count(args)
	region := [i | some i, info in infos; i < operand; info.option == true]
	code_values := [v | some i in region; infos[i].kind == "code"; v := option_value(args, infos[i], i)]
	program_values := [v | some i in region; infos[i].kind == "program"; v := option_value(args, infos[i], i)]
	shell_code := count([i | some i in region; infos[i].shell_code == true]) > 0
	exits := count([i | some i in region; infos[i].exit == true]) > 0
	inline := count([1 | some given in [shell_code, count(code_values) > 0, count(program_values) > 0, exits]; given == true]) > 0
	operand_words := {args[operand] | has_operand == true; some ok in [shell_code, inline == false]; ok == true}
	flag_words := {v.value | some v in array.concat(code_values, program_values); v.present == true}
	words := flag_words | operand_words
	missing_code := array.concat([1 | some v in code_values; v.present == false], [1 | shell_code == true; has_operand == false])
	facts := {
		"has_operand": has_operand,
		"operand": array.slice(args, operand, operand + 1),
		"inline": inline,
		"exit": exits,
		"stdin_flag": count([i | some i in region; infos[i].stdin == true]) > 0,
		"interactive": count([i | some i in region; infos[i].interactive == true]) > 0,
		"code_missing": count(missing_code) > 0,
		"words": words,
	}
} else := {"source": "dynamic", "words": set()}

program_source(facts, spec) := "dynamic" if {
	null in facts.words
} else := "descriptor" if {
	facts.inline == false
	some operand in facts.operand
	descriptor_path(operand)
} else := "stdin" if {
	reads_stdin(facts, spec)
} else := "visible"

reads_stdin(facts, spec) if {
	facts.inline == false
	facts.has_operand == false
	not object.get(spec, "operand_required", false) == true
}

reads_stdin(facts, _) if {
	facts.inline == false
	facts.operand == ["-"]
}

reads_stdin(facts, _) if {
	facts.inline == false
	facts.stdin_flag == true
}

reads_stdin(facts, _) if {
	facts.interactive == true
	facts.exit == false
}

# "xargs sh -c": xargs appends the code from its input.
reads_stdin(facts, _) if facts.code_missing == true

# --- interpreter option syntax ---
#
# getopt style: in "-Bc CODE" or "-cCODE" the first letter that takes a value takes the rest of
# the word, or the next word when it is the last letter. Shell style: -c is a plain flag (the code
# is the first operand), -o/-O take the next word, and +o options exist too.

shell_style(spec) if object.get(spec, "style", "") == "shell"

option_word("--", _)

option_word(w, _) if {
	is_string(w)
	startswith(w, "-")
	count(w) > 1
}

option_word(w, spec) if {
	shell_style(spec)
	is_string(w)
	startswith(w, "+")
	count(w) > 1
}

long_option(w) if {
	startswith(w, "--")
	count(w) > 2
}

long_name(w) := split(w, "=")[0]

# What one word is: {"option": false} for an operand, else the option's facts: kind of value it
# takes ("code", "program", "valued", "attached" or ""), whether that value is the next word,
# the value when attached, and the flags it sets.
word_info(w, spec) := {"option": false} if {
	not option_word(w, spec)
} else := {"option": true, "kind": "", "next": false, "attached": null, "shell_code": false, "exit": false, "stdin": false, "interactive": false} if {
	w == "--"
} else := long_info(w, spec) if {
	long_option(w)
} else := shell_cluster_info(w, spec) if {
	shell_style(spec)
} else := getopt_cluster_info(w, spec)

long_info(w, spec) := {
	"option": true,
	"kind": kind,
	"next": count([1 | kind != ""; not contains(w, "=")]) > 0,
	"attached": attached,
	"shell_code": false,
	"exit": listed(name, spec, "long_exit_flags"),
	"stdin": listed(name, spec, "long_stdin_flags"),
	"interactive": listed(name, spec, "long_interactive_flags"),
} if {
	name := long_name(w)
	kind := long_kind(name, spec)
	attached := after_equals(w)
}

long_kind(name, spec) := "code" if {
	listed(name, spec, "long_code_flags")
} else := "program" if {
	listed(name, spec, "long_program_flags")
} else := "valued" if {
	listed(name, spec, "long_valued_flags")
} else := ""

after_equals(w) := substring(w, indexof(w, "=") + 1, -1) if {
	contains(w, "=")
} else := null

shell_cluster_info(w, spec) := {
	"option": true,
	"kind": "",
	"next": has_letter(letters, spec, "valued_flags", count(letters)),
	"attached": null,
	"shell_code": dash_and(w, has_letter(letters, spec, "code_flags", count(letters))),
	"exit": dash_and(w, has_letter(letters, spec, "exit_flags", count(letters))),
	"stdin": dash_and(w, has_letter(letters, spec, "stdin_flags", count(letters))),
	"interactive": dash_and(w, has_letter(letters, spec, "interactive_flags", count(letters))),
} if {
	letters := substring(w, 1, -1)
}

dash_and(w, flag) := count([1 | startswith(w, "-"); flag == true]) > 0

getopt_cluster_info(w, spec) := {
	"option": true,
	"kind": kind,
	"next": count([1 | kind != ""; k == count(letters) - 1; kind != "attached"]) > 0,
	"attached": attached,
	"shell_code": false,
	"exit": has_letter(letters, spec, "exit_flags", k),
	"stdin": has_letter(letters, spec, "stdin_flags", k),
	"interactive": has_letter(letters, spec, "interactive_flags", k),
} if {
	letters := substring(w, 1, -1)
	k := value_letter_index(letters, spec)
	kind := letter_kind(substring(letters, k, 1), spec)
	attached := attached_value(letters, k)
}

# Index of the first letter that takes a value; count(letters) when none does.
value_letter_index(letters, spec) := min(found) if {
	found := {i |
		some key in ["code_flags", "program_flags", "valued_flags", "attached_flags"]
		some x in spec_list(spec, key)
		i := indexof(letters, x)
		i >= 0
	}
	count(found) > 0
} else := count(letters)

letter_kind(letter, spec) := "" if {
	letter == ""
} else := "code" if {
	listed(letter, spec, "code_flags")
} else := "program" if {
	listed(letter, spec, "program_flags")
} else := "attached" if {
	listed(letter, spec, "attached_flags")
} else := "valued" if {
	listed(letter, spec, "valued_flags")
} else := ""

attached_value(letters, k) := substring(letters, k + 1, -1) if {
	k < count(letters) - 1
} else := null

# A letter of the list key at or before index limit.
has_letter(letters, spec, key, limit) := count([1 |
	some x in spec_list(spec, key)
	i := indexof(letters, x)
	i >= 0
	i <= limit
]) > 0

# The first operand (the script, or a shell's -c code): the first word that is neither an option
# nor an option's value, or the word after "--"; count(args) when there is none.
first_operand(args, infos) := min(candidates) if {
	plain := {j | some j, info in infos; info.option == false; not consumed(infos, j)}
	after_dashdash := {k | some d, w in args; w == "--"; k := d + 1; k < count(args)}
	candidates := plain | after_dashdash
	count(candidates) > 0
} else := count(args)

consumed(infos, j) if {
	j > 0
	infos[j - 1].next == true
}

# {"present": true, "value": word} or {"present": false} when the option is the last word.
option_value(args, info, i) := {"present": true, "value": info.attached} if {
	is_string(info.attached)
} else := {"present": true, "value": args[i + 1]} if {
	i + 1 < count(args)
} else := {"present": false}

# /dev/stdin, /dev/fd/0, /proc/self/fd/0, /dev/tty …, after dropping empty and "." segments.
descriptor_path(path) if {
	is_string(path)
	normalized := concat("/", [s | some s in split(path, "/"); s != ""; s != "."])
	some pattern in rules.descriptor_path_patterns
	regex.match(pattern, normalized)
}

# --- standard input ---

# At the head of a pipeline (or alone), standard input is the session's unless every redirection
# of it is a here-document or here-string (the PDP follows those into shells; for other
# interpreters the text is in the command) or a file. Past the head it is the pipe: a
# redirection there may belong to an enclosing command, so it does not count.
stdin_visible(cmd) if {
	cmd.pipeline_position == 0
	redirects := [r | some r in fields.field(cmd, "redirects"); stdin_redirect(r)]
	count(redirects) > 0
	every r in redirects {
		visible_input(r)
	}
}

stdin_redirect(r) if regex.match(`^0?(<|<>|<&|<<|<<-|<<<)$`, fields.text(r, "op"))

visible_input(r) if {
	regex.match(`^0?(<<|<<-|<<<)$`, r.op)
	is_string(r.target)
}

visible_input(r) if {
	regex.match(`^0?(<|<>)$`, r.op)
	is_string(r.target)
	not descriptor_path(r.target)
}

# --- shells started by wrappers, and xargs ---

starts_shell_on_stdin(cmd) if {
	wrapper := rules.shell_starting_wrappers[cmd.name]
	is_array(cmd.args)
	not runs_a_visible_command(cmd, wrapper)
	not "--help" in cmd.args
	not "--version" in cmd.args
}

# The PDP lists the command a wrapper runs at the wrapper's place with via = its name.
wrapped_slots := {[c.pipeline, c.pipeline_position, c.via] | some c in commands; is_string(c.via)}

runs_a_visible_command(cmd, _) if wrapped_slots[[cmd.pipeline, cmd.pipeline_position, cmd.name]]

# su -c CMD: the PDP follows the string with via "su -c".
runs_a_visible_command(cmd, wrapper) if {
	some a in cmd.args
	is_string(a)
	startswith(a, "-")
	not startswith(a, "--")
	some x in spec_list(wrapper, "code_flags")
	contains(a, x)
}

runs_a_visible_command(cmd, wrapper) if {
	some a in cmd.args
	is_string(a)
	long_option(a)
	long_name(a) in spec_list(wrapper, "long_code_flags")
}

# [pipeline, position] → the R of every xargs -I R / -IR / -i[R] / --replace[=R] (default "{}")
# there.
xargs_replace_strings[[feeder.pipeline, feeder.pipeline_position]] contains token if {
	some feeder in commands
	feeder.name == rules.xargs.name
	is_array(feeder.args)
	some i, a in feeder.args
	is_string(a)
	startswith(a, "-")
	some token in xargs_replace_string(feeder.args, i, a)
	token != ""
}

# The letters after xargs' flag letters that take no value: "I{}" in "-0I{}".
xargs_rest(a) := trim_left(substring(a, 1, -1), rules.xargs.boolean_flags)

xargs_replace_string(args, i, a) := {args[i + 1]} if {
	xargs_rest(a) == rules.xargs.replace_flag
	i + 1 < count(args)
	is_string(args[i + 1])
} else := {trim_prefix(xargs_rest(a), rules.xargs.replace_flag)} if {
	not startswith(a, "--")
	startswith(xargs_rest(a), rules.xargs.replace_flag)
} else := {rules.xargs.default_replace_string} if {
	xargs_rest(a) == rules.xargs.default_replace_flag
} else := {trim_prefix(xargs_rest(a), rules.xargs.default_replace_flag)} if {
	not startswith(a, "--")
	startswith(xargs_rest(a), rules.xargs.default_replace_flag)
} else := {rules.xargs.default_replace_string} if {
	a == rules.xargs.long_replace_flag
} else := {trim_prefix(a, concat("", [rules.xargs.long_replace_flag, "="]))} if {
	startswith(a, concat("", [rules.xargs.long_replace_flag, "="]))
} else := set()
