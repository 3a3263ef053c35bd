# File operations (SFTP, scp) on SSH hosts, on the paths the PDP normalised.
package portcullis.file_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

file(operation, paths) := object.union(
	{"type": "file", "protocol": "sftp", "operation": operation, "path": paths[0], "paths": paths, "parse_error": null, "as_sent": {"path": paths[0]}},
	target(paths),
)

target(paths) := {"target_path": paths[1]} if count(paths) > 1

else := {}

on_web(kind, roles, action) := d if {
	d := decision with input as fx.request(kind, roles, "web-1", action)
}

on_stage(kind, roles, action) := d if {
	d := decision with input as fx.request(kind, roles, "web-stage", action)
		with data.portcullis.resources as fx.with_staging_resources
}

test_reader_reads_lists_and_stats if {
	every operation in ["read", "list", "stat", "readlink", "realpath"] {
		d := on_web("agent", ["reader"], file(operation, ["/var/log/app/today.log"]))
		d.effect == "allow"
		fx.codes(d) == {"file-read"}
	}
}

test_no_role_reads_nothing if {
	d := on_web("agent", [], file("read", ["/var/log/syslog"]))
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_reader_changes_nothing if {
	every operation in ["write", "remove", "rename", "mkdir", "rmdir", "setstat", "symlink", "link"] {
		d := on_web("agent", ["reader"], file(operation, ["/srv/app/data.txt"]))
		d.effect == "deny"
		"insufficient-role" in fx.codes(d)
	}
}

test_writer_changes_in_production_with_approval if {
	every operation in ["write", "remove", "mkdir", "rmdir", "setstat"] {
		d := on_web("agent", ["reader", "writer"], file(operation, ["/srv/app/data.txt"]))
		d.effect == "approval_required"
		fx.codes(d) == {"file-change-requires-approval"}
		d.approval.quorum == 1
	}
}

test_writer_changes_in_staging_without_approval if {
	d := on_stage("agent", ["reader", "writer"], file("rename", ["/srv/app/a", "/srv/app/b"]))
	d.effect == "allow"
	fx.codes(d) == {"file-change-allowed"}
}

test_unreadable_paths_are_denied if {
	action := object.union(file("read", ["/srv/app/../../etc/shadow"]), {"paths": [], "parse_error": "path has a .. segment"})
	d := on_web("human", ["reader"], action)
	d.effect == "deny"
	"file-path-unreadable" in fx.codes(d)
}

test_an_action_without_paths_is_denied if {
	d := on_web("human", ["reader"], object.union(file("read", ["/x"]), {"paths": []}))
	d.effect == "deny"
	"file-path-unreadable" in fx.codes(d)
}

test_an_unknown_operation_is_denied if {
	d := on_web("human", ["reader", "writer"], file("chattr", ["/srv/x"]))
	d.effect == "deny"
	"file-operation-unknown" in fx.codes(d)
}

test_secret_files_are_named_by_no_operation if {
	every path in [
		"/etc/shadow", "/etc/gshadow", "/etc/ssh/ssh_host_ed25519_key", "/etc/sudoers.d/admins", "/root/.bash_history",
		"/home/deploy/.ssh/id_ed25519", "/home/deploy/.ssh/id_rsa_backup", "/proc/1/environ", "/proc/self/mem", "/dev/mem",
	] {
		every operation in ["read", "stat", "write"] {
			d := on_web("human", ["reader", "writer"], file(operation, [path]))
			d.effect == "deny"
			"file-secret-path" in fx.codes(d)
		}
	}
}

test_public_keys_and_ordinary_files_are_not_secret if {
	every path in ["/home/deploy/.ssh/id_ed25519.pub", "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/hostname", "/home/deploy/shadow"] {
		d := on_web("human", ["reader"], file("read", [path]))
		d.effect == "allow"
	}
}

test_a_link_or_rename_naming_a_secret_is_denied if {
	every action in [
		file("symlink", ["/tmp/innocent", "/etc/shadow"]),
		file("link", ["/tmp/innocent", "/etc/shadow"]),
		file("rename", ["/home/deploy/.ssh/id_rsa", "/tmp/key"]),
	] {
		d := on_stage("human", ["reader", "writer"], action)
		d.effect == "deny"
		"file-secret-path" in fx.codes(d)
	}
}

test_changes_to_what_the_host_loads_or_runs_are_denied if {
	every path in [
		"/etc/cron.d/job", "/usr/local/bin/ls", "/bin/sh", "/lib/x86_64-linux-gnu/libc.so.6", "/boot/vmlinuz",
		"/home/deploy/.ssh/authorized_keys", "/home/deploy/.bashrc", "/home/deploy/.profile", "/srv/app/.git/hooks/post-checkout",
		"/srv/app/.git/config", "/home/deploy/.gitconfig", "/var/spool/cron/crontabs/deploy",
	] {
		d := on_stage("human", ["reader", "writer"], file("write", [path]))
		d.effect == "deny"
		"file-protected-path" in fx.codes(d)
	}
}

test_a_rename_into_a_protected_path_is_denied if {
	d := on_stage("human", ["reader", "writer"], file("rename", ["/tmp/evil.so", "/usr/lib/evil.so"]))
	d.effect == "deny"
	"file-protected-path" in fx.codes(d)
}

test_a_symlink_is_judged_by_the_link_it_creates if {
	# A link in an ordinary directory pointing at a system file changes nothing there.
	d := on_stage("human", ["reader", "writer"], file("symlink", ["/srv/app/current", "/usr/share/doc"]))
	d.effect == "allow"
	# A link created where the host loads from is a change there.
	e := on_stage("human", ["reader", "writer"], file("symlink", ["/etc/cron.d/job", "/srv/app/job"]))
	e.effect == "deny"
	"file-protected-path" in fx.codes(e)
}

test_reading_system_files_is_a_read if {
	d := on_web("agent", ["reader"], file("read", ["/etc/nginx/nginx.conf"]))
	d.effect == "allow"
}

test_setuid_setgid_and_sticky_bits_are_denied if {
	every mode in [2541, 1517, 1023, 33261 + 2048] {
		action := object.union(file("setstat", ["/srv/app/tool"]), {"attributes": {"mode": mode}})
		d := on_stage("human", ["reader", "writer"], action)
		d.effect == "deny"
		"file-special-mode-bits" in fx.codes(d)
	}
}

test_ordinary_modes_are_a_change if {
	action := object.union(file("setstat", ["/srv/app/tool"]), {"attributes": {"mode": 493}})
	d := on_stage("human", ["reader", "writer"], action)
	d.effect == "allow"
}
