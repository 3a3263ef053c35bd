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

# --- the read-only allow-list ---

read_only(cmd) if {
	spec := rules.read_only_commands[cmd.name]
	trusted_path(cmd)
	is_array(cmd.args)
	not writes_output(cmd)
	args_permitted(cmd.args, spec)
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
	count(operands(args)) <= object.get(spec, "max_operands", count(args))
	subcommand_permitted(args, spec)
	operand_present_if_required(args, spec)
}

forbidden_arg(a, spec) if a in object.get(spec, "forbidden_args", [])

forbidden_arg(a, spec) if {
	some prefix in object.get(spec, "forbidden_arg_prefixes", [])
	startswith(a, prefix)
}

# Short flags can be bundled ("-ro"), so look for the letter anywhere in a single-dash word.
forbidden_arg(a, spec) if {
	startswith(a, "-")
	not startswith(a, "--")
	some flag in object.get(spec, "forbidden_short_flags", [])
	contains(a, flag)
}

operands(args) := [a | some a in args; is_string(a); not startswith(a, "-")]

subcommand_permitted(_, spec) if not spec.subcommands

subcommand_permitted(args, _) if count(operands(args)) == 0

subcommand_permitted(args, spec) if operands(args)[0] in spec.subcommands

# A wrapper (env, nice, timeout, xargs) is read-only only when it wraps a command, which the
# PDP lists and policy judges on its own; bare "env" would print the environment's secrets.
operand_present_if_required(_, spec) if not spec.requires_operand == true

operand_present_if_required(args, _) if {
	some a in operands(args)
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
