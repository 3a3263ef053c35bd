# Read-only commands take only the options their spec lists, spelled out in full.
package portcullis.shell_read_options_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

reader_on_web1(c) := d if {
	d := decision with input as fx.shell("agent", ["reader"], "web-1", "cmd", [c])
}

is_read(c) if {
	d := reader_on_web1(c)
	d.effect == "allow"
	fx.codes(d) == {"shell-read-only-command"}
}

# Not a read: a reader is refused for want of write access.
not_a_read(c) if {
	d := reader_on_web1(c)
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_options_that_name_a_program_to_run_are_not_read_only if {
	every args in [["--compress-program=sh"], ["--compress-program", "sh"], ["-S", "1K", "--compress-program=sh"], ["--compress-p=sh"], ["--com=sh"]] {
		not_a_read(fx.cmd("sort", args))
	}
}

test_gnu_abbreviations_of_forbidden_long_options_are_not_read_only if {
	every c in [
		fx.cmd("sort", ["--o=/tmp/x", "/etc/hostname"]),
		fx.cmd("sort", ["--out", "/tmp/x"]),
		fx.cmd("sort", ["--temporary-directory=/etc"]),
		fx.cmd("date", ["--se=2020-01-01"]),
		fx.cmd("date", ["--set=2020-01-01"]),
		fx.cmd("journalctl", ["--vac=1"]),
		fx.cmd("journalctl", ["--vacuum-size=1"]),
		fx.cmd("journalctl", ["--rot"]),
		fx.cmd("journalctl", ["--setup-k"]),
		fx.cmd("journalctl", ["--cursor-file=/home/deploy/.profile", "-n1"]),
		fx.cmd("journalctl", ["--directory=/tmp"]),
		fx.cmd("hostname", ["--fil=/tmp/x"]),
		fx.cmd("hostname", ["-F", "/tmp/x"]),
		fx.cmd("hostname", ["-b"]),
	] {
		not_a_read(c)
	}
}

test_bundled_short_options_are_read_letter_by_letter if {
	every c in [fx.cmd("date", ["-us", "2020-01-01"]), fx.cmd("date", ["-su", "2020-01-01"]), fx.cmd("sort", ["-ro", "/tmp/x"]), fx.cmd("sort", ["-uT/etc"]), fx.cmd("hostname", ["-sF", "/tmp/x"])] {
		not_a_read(c)
	}
}

test_systemctl_on_another_host_or_machine_is_not_read_only if {
	every args in [["--host=evil", "status"], ["--ho=evil", "status"], ["-H", "evil", "status"], ["-Hevil", "status"], ["-M", "box", "status"], ["--machine=box", "status"], ["--root=/tmp", "status"]] {
		not_a_read(fx.cmd("systemctl", args))
	}
}

test_date_with_an_operand_other_than_a_format_sets_the_clock if {
	not_a_read(fx.cmd("date", ["010100002020"]))
	not_a_read(fx.cmd("date", ["-u", "0101"]))
	is_read(fx.cmd("date", ["+%s"]))
	is_read(fx.cmd("date", ["-u", "+%F"]))
}

test_listed_options_and_their_values_stay_read_only if {
	every c in [
		fx.cmd("sort", ["-k2,2", "-t", ":", "-rn", "/etc/passwd"]),
		fx.cmd("sort", ["--key=2", "--field-separator", ":", "--reverse", "-u", "/etc/group"]),
		fx.cmd("sort", ["-k", "-o", "x"]),
		fx.cmd("date", ["-d", "yesterday", "+%F"]),
		fx.cmd("date", ["--date=next monday", "-Iseconds"]),
		fx.cmd("date", ["-R"]),
		fx.cmd("hostname", ["-f"]),
		fx.cmd("hostname", ["--all-ip-addresses"]),
		fx.cmd("journalctl", ["-u", "nginx", "--since", "1 hour ago", "-n", "50", "--no-pager"]),
		fx.cmd("journalctl", ["-fu", "nginx"]),
		fx.cmd("journalctl", ["-b", "-p", "err", "-o", "short-iso"]),
		fx.cmd("systemctl", ["status", "nginx", "--no-pager", "-l"]),
		fx.cmd("systemctl", ["-p", "MainPID", "show", "nginx"]),
		fx.cmd("systemctl", ["list-units", "--type=service", "--state=failed"]),
	] {
		is_read(c)
	}
}

# A value taken for an option is not a subcommand: systemctl -p restart … is not "restart".
test_option_values_are_not_operands if {
	is_read(fx.cmd("systemctl", ["-p", "restart", "show", "nginx"]))
	not_a_read(fx.cmd("systemctl", ["-a", "restart", "nginx"]))
}

# The value of an option whose spec says it takes none is an operand: -l restart is restart.
test_a_flag_does_not_take_the_next_word if {
	not_a_read(fx.cmd("systemctl", ["-l", "restart", "nginx"]))
}

test_commands_run_by_xargs_get_words_no_decision_sees if {
	every c in [
		object.union(fx.cmd("find", [".", "-maxdepth", "0"]), {"via": "xargs"}),
		object.union(fx.cmd("sort", []), {"via": "xargs"}),
		object.union(fx.cmd("date", []), {"via": "xargs"}),
		object.union(fx.cmd("systemctl", ["status"]), {"via": "xargs"}),
	] {
		d := decision with input as fx.shell("agent", ["reader"], "web-1", "xargs", [fx.cmd("xargs", [c.name]), c])
		d.effect == "deny"
		"insufficient-role" in fx.codes(d)
	}
	# A command that restricts nothing stays a read whatever xargs appends.
	d := decision with input as fx.shell("agent", ["reader"], "web-1", "xargs", [fx.cmd("xargs", ["grep", "x"]), object.union(fx.cmd("grep", ["x"]), {"via": "xargs"})])
	d.effect == "allow"
}

# A pack that still lists forbidden spellings gets GNU abbreviations and bundles counted.
test_forbidden_prefixes_catch_abbreviations_and_bundles if {
	spec := {"forbidden_arg_prefixes": ["-s", "--set", "--output"]}
	every c in [fx.cmd("mytool", ["--se=1"]), fx.cmd("mytool", ["--out"]), fx.cmd("mytool", ["--o=x"]), fx.cmd("mytool", ["-us"])] {
		d := decision with input as fx.shell("agent", ["reader"], "web-1", "mytool", [c])
			with data.portcullis.shell_rules.read_only_commands.mytool as spec
		d.effect == "deny"
	}
	ok := decision with input as fx.shell("agent", ["reader"], "web-1", "mytool", [fx.cmd("mytool", ["--utc", "-u"])])
		with data.portcullis.shell_rules.read_only_commands.mytool as spec
	ok.effect == "allow"
}

# The PDP lists text bash evaluates again (test -v 'a[$(cmd)]', $((x)) …) as a dynamic entry via
# "arithmetic": denied for everyone, with its own reason.
test_text_bash_evaluates_again_is_denied if {
	evaluated := object.union(fx.cmd("", ["a[$(touch /tmp/x)]"]), {"path": "a[$(touch /tmp/x)]", "dynamic_name": true, "via": "arithmetic"})
	every who in [["reader"], ["reader", "writer"]] {
		d := decision with input as fx.shell("human", who, "web-1", "test -v 'a[$(touch /tmp/x)]'", [fx.cmd("test", ["-v", "a[$(touch /tmp/x)]"]), evaluated])
		d.effect == "deny"
		"shell-evaluated-text-code" in fx.codes(d)
	}
}

# An option's value is not the verb: systemctl -p status restart ssh restarts ssh.
test_systemctl_verb_after_an_option_value_is_judged if {
	every args in [["-p", "status", "restart", "ssh"], ["-t", "status", "stop", "ssh"], ["--property", "status", "kill", "ssh"], ["-pstatus", "restart", "ssh"]] {
		not_a_read(fx.cmd("systemctl", args))
	}
	is_read(fx.cmd("systemctl", ["--property=MainPID", "show", "ssh"]))
}

# A command naming a secret file is no read, however the path is spelled: a reader may not run it.
test_commands_naming_secret_paths_are_not_reads if {
	every c in [
		fx.cmd("cat", ["/etc/shadow"]),
		fx.cmd("cat", ["/etc/ssh/ssh_host_ed25519_key"]),
		fx.cmd("cat", ["/proc/1/environ"]),
		fx.cmd("head", ["-n1", "//etc/./shadow"]),
		fx.cmd("tail", ["/var/../etc/shadow"]),
		fx.cmd("cat", ["/proc/self/root/etc/passwd"]),
		fx.cmd("cat", ["/proc/self/cwd/x"]),
		fx.cmd("cat", ["/proc/1/fd/3"]),
		fx.cmd("sort", ["--files0-from=/etc/sudoers"]),
		fx.cmd("cat", ["~/.ssh/id_ed25519"]),
		fx.cmd("cat", ["~root/.bashrc"]),
		fx.cmd("ls", ["/root"]),
	] {
		not_a_read(c)
	}
	d := decision with input as fx.shell("human", ["reader", "writer"], "web-1", "cat /etc/shadow", [fx.cmd("cat", ["/etc/shadow"])])
	d.effect == "approval_required"
}

test_ordinary_paths_and_public_keys_are_not_secret if {
	every c in [
		fx.cmd("cat", ["/etc/passwd"]),
		fx.cmd("cat", ["/etc/shadow/../passwd"]),
		fx.cmd("ls", ["/proc/self/fd"]),
		fx.cmd("cat", ["/proc/1/status"]),
		fx.cmd("cat", ["~/.ssh/id_ed25519.pub"]),
		fx.cmd("grep", ["-r", "x", "/var/log"]),
	] {
		is_read(c)
	}
}

# hash -p, BASH_CMDS[…]= and BASH_ALIASES[…]= make a command name run something else: denied.
test_command_lookup_overrides_are_denied if {
	hash := decision with input as fx.shell("human", ["reader", "writer"], "web-1", "hash -p /sbin/reboot ls; ls", [fx.cmd("hash", ["-p", "/sbin/reboot", "ls"]), fx.cmd("ls", [])])
	hash.effect == "deny"
	"shell-command-lookup-override" in fx.codes(hash)
	every name in ["BASH_CMDS", "BASH_ALIASES"] {
		d := decision with input as object.union(fx.shell("human", ["reader", "writer"], "web-1", "x", [fx.cmd("ls", [])]), {"action": {"environment": [{"name": name, "route": "assignment", "value": null, "exported": false, "unset": false, "append": false, "via": null}]}})
		d.effect == "deny"
		"shell-environment-code" in fx.codes(d)
	}
	plain := decision with input as fx.shell("human", ["reader", "writer"], "web-1", "hash -r", [fx.cmd("hash", ["-r"])])
	plain.effect == "approval_required"
}
