# Secret files named in a shell command's words (cat /etc/shadow, tail /proc/1/environ,
# sort --files0-from=/etc/sudoers): a command that names one of the file rules' secret paths is no
# read, whatever the allow-list says, so it needs write access (and approval in production). The
# paths are every literal absolute (or ~) path in its words, after "." and ".." are resolved as
# text, and any path through a process's view of the file system (/proc/PID/root/…, cwd/…, fd/N,
# map_files/…), which reaches any file under another name. Best effort only: a glob, a variable, a
# relative path after cd or a recursive search names the same file without writing it, so the
# host's own permissions stay the control for exec (policies/README.md).
package portcullis.shell

import data.portcullis.file

names_secret_path(cmd) if {
	some word in cmd.args
	some path in named_paths(word)
	secret_named_path(path)
}

# The word itself and an option's value after "=" (--files0-from=/etc/shadow), when absolute
# or under a home directory (~/.ssh/id_rsa, ~root/x).
named_paths(word) := {p |
	is_string(word)
	some candidate in [word, substring(word, indexof(word, "=") + 1, -1)]
	some absolute in absolute_forms(candidate)
	p := resolved_path(absolute)
}

absolute_forms(candidate) := [candidate] if {
	startswith(candidate, "/")
} else := [concat("", ["/root", substring(candidate, 5, -1)]), concat("/", ["/home", substring(candidate, 1, -1)])] if {
	startswith(candidate, "~root")
} else := [concat("/", ["/home", substring(candidate, 1, -1)])] if {
	startswith(candidate, "~")
} else := []

secret_named_path(path) if file.secret_path(path)

secret_named_path(path) if regex.match(`^/proc/[^/]+/(root|cwd|map_files)/.`, path)

secret_named_path(path) if regex.match(`^/proc/[^/]+/(task/[^/]+/)?fd/.`, path)

# "/a/./b/../c" → "/a/c": a segment survives unless a later ".." takes it back.
resolved_path(path) := concat("", ["/", concat("/", kept)]) if {
	segments := [s | some s in split(path, "/"); s != ""; s != "."]
	kept := [s |
		some i, s in segments
		s != ".."
		not taken_back(segments, i)
	]
}

taken_back(segments, i) if {
	some j in numbers.range(i + 1, count(segments) - 1)
	j > i
	window := array.slice(segments, i + 1, j + 1)
	count([1 | some s in window; s == ".."]) > count([1 | some s in window; s != ".."])
}
