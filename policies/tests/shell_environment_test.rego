# Assignments that change what a command loads or runs, in every form the PDP reports
# (docs/policy-input.md, action.environment).
package portcullis.shell_environment_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

change(name, route, exported) := {"name": name, "route": route, "value": null, "exported": exported, "unset": false, "append": false, "via": null}

removal(name, route) := object.union(change(name, route, true), {"unset": true})

# `ls` run with the given environment changes, as the PDP reports it.
with_env(changes) := object.union(
	fx.shell("agent", ["reader"], "web-1", "ls", [fx.cmd("ls", [])]).action,
	{"environment": changes},
)

decide(kind, roles, resource_name, changes) := d if {
	d := decision with input as fx.request(kind, roles, resource_name, with_env(changes))
		with data.portcullis.resources as fx.with_staging_resources
}

code_names := ["LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH", "GLIBC_TUNABLES", "BASH_ENV", "ENV", "PS4", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS", "BASH_FUNC_ls%%", "DYLD_INSERT_LIBRARIES"]

routes := [
	"prefix", "assignment", "env", "sudo", "export", "declare", "typeset", "readonly", "local",
	"declare -n", "read", "printf -v", "mapfile", "getopts", "for", "expansion", "arithmetic",
]

# A code variable is denied to everyone, even a writer in staging: every name by one route …
test_code_variables_are_denied if {
	every name in code_names {
		d := decide("human", ["reader", "writer"], "web-stage", [change(name, "prefix", true)])
		d.effect == "deny"
		"shell-environment-code" in fx.codes(d)
	}
}

# … and one name by every route the PDP reports, exported or not.
test_a_code_variable_is_denied_whatever_the_route if {
	every route in routes {
		d := decide("human", ["reader", "writer"], "web-stage", [change("LD_PRELOAD", route, route in {"prefix", "env", "sudo", "export"})])
		d.effect == "deny"
		"shell-environment-code" in fx.codes(d)
	}
}

test_removing_a_code_variable_is_only_a_change if {
	every c in [removal("LD_PRELOAD", "unset"), removal("PS4", "env -u"), removal("BASH_ENV", "export -n")] {
		d := decide("human", ["reader", "writer"], "web-stage", [c])
		d.effect == "allow"
		fx.codes(d) == {"shell-read-only-command", "shell-environment-change-allowed"}
	}
}

test_a_variable_named_only_at_run_time_is_denied if {
	every route in ["declare", "export", "read", "printf -v", "arithmetic", "env -u"] {
		d := decide("human", ["reader", "writer"], "web-stage", [change(null, route, false)])
		d.effect == "deny"
		"shell-environment-dynamic-name" in fx.codes(d)
	}
}

# PATH=/tmp:$PATH ls, PYTHONPATH=… python3, NODE_OPTIONS=… node, GIT_DIR=… git …: a read becomes a change.
test_interpreter_and_tool_variables_make_a_read_a_change if {
	every name in ["PATH", "IFS", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PERL5LIB", "PERL5OPT", "PERLLIB", "NODE_OPTIONS", "NODE_PATH", "RUBYOPT", "RUBYLIB", "JAVA_TOOL_OPTIONS", "CLASSPATH", "GIT_DIR", "GIT_SSH_COMMAND", "GIT_CONFIG_GLOBAL", "HOME", "XDG_CONFIG_HOME", "EDITOR", "PAGER", "LESSOPEN", "SYSTEMD_PAGER", "TMPDIR", "*"] {
		writer := decide("agent", ["reader", "writer"], "web-1", [change(name, "prefix", true)])
		writer.effect == "approval_required"
		"shell-environment-change-requires-approval" in fx.codes(writer)
	}
}

test_a_change_needs_write_access_and_approval_only_in_production if {
	reader := decide("agent", ["reader"], "web-1", [change("PATH", "prefix", true)])
	reader.effect == "deny"
	"insufficient-role" in fx.codes(reader)
	staging := decide("agent", ["reader", "writer"], "web-stage", [change("PATH", "prefix", true)])
	staging.effect == "allow"
	"shell-environment-change-allowed" in fx.codes(staging)
}

test_every_route_that_reaches_what_runs_is_a_change if {
	every c in [
		change("PATH", "prefix", true), change("PATH", "assignment", false), change("PATH", "env", true),
		change("PATH", "export", true), change("PATH", "declare", true), change("PATH", "local", false),
		change("PATH", "for", false), change("PATH", "expansion", false), change("PATH", "arithmetic", false),
		change("PATH", "read", false), change("PATH", "declare -n", false), removal("PATH", "unset"),
		removal("*", "env -i"), removal("*", "exec -c"), change("*", "sudo -E", true), change("*", "set -a", true),
		change("http_proxy", "env", true), change("lower", "export", true),
	] {
		d := decide("agent", ["reader", "writer"], "web-1", [c])
		d.effect == "approval_required"
		"shell-environment-change-requires-approval" in fx.codes(d)
	}
}

test_the_message_names_the_variables if {
	d := decide("agent", ["reader", "writer"], "web-1", [change("PYTHONPATH", "prefix", true), change("PATH", "export", true)])
	some r in d.reasons
	r.code == "shell-environment-change-requires-approval"
	contains(r.message, "PATH, PYTHONPATH")
}

test_harmless_variables_keep_a_read_a_read if {
	every c in [change("LC_ALL", "prefix", true), change("LANG", "env", true), change("TZ", "export", true), change("TERM", "prefix", true), change("COLUMNS", "prefix", true), change("REPLY", "read", false)] {
		d := decide("agent", ["reader"], "web-1", [c])
		d.effect == "allow"
		fx.codes(d) == {"shell-read-only-command"}
	}
}

test_shell_variables_with_lower_case_names_stay_in_the_shell if {
	every c in [change("f", "assignment", false), change("line", "read", false), change("i", "for", false), change("n", "arithmetic", false), change("logFile", "local", false)] {
		d := decide("agent", ["reader"], "web-1", [c])
		d.effect == "allow"
	}
}

test_no_environment_field_is_no_change if {
	d := decision with input as fx.shell("agent", ["reader"], "web-1", "ls", [fx.cmd("ls", [])])
	d.effect == "allow"
}

test_enable_f_loads_code_and_is_denied if {
	every args in [["-f", "/tmp/x.so", "ls"], ["-nf", "/tmp/x.so", "ls"], [null]] {
		d := decision with input as fx.shell("human", ["reader", "writer"], "web-stage", "enable", [fx.cmd("enable", args)])
			with data.portcullis.resources as fx.with_staging_resources
		d.effect == "deny"
		"shell-environment-code" in fx.codes(d)
	}
}

test_enable_without_f_is_a_change if {
	d := decision with input as fx.shell("human", ["reader", "writer"], "web-stage", "enable -n echo", [fx.cmd("enable", ["-n", "echo"])])
		with data.portcullis.resources as fx.with_staging_resources
	d.effect == "allow"
	fx.codes(d) == {"shell-command-allowed"}
}
