# File operations on SSH hosts (SFTP requests, legacy scp steps), judged on the paths the PDP
# normalised to what the host will act on (docs/policy-input.md, action.type "file").
#
# Reads need read access; changes need write access and, in production, approval. Secret files
# (password hashes, private keys, other processes' memory and environment) are named by no
# operation for anyone: a link or rename naming one would expose it by another path. System
# directories, shell start-up files, SSH and git configuration and hooks are never changed
# this way: each would change what later logins or commands load or run.
package portcullis.file

import data.portcullis.fields
import data.portcullis.identity

rules := data.portcullis.file_rules

operation := fields.text(input.action, "operation")

paths := p if {
	p := input.action.paths
	is_array(p)
} else := []

findings contains {
	"effect": "deny",
	"code": "file-path-unreadable",
	"message": concat("", ["the path cannot be read as the host would resolve it: ", fields.text(input.action, "parse_error")]),
} if {
	not fields.field(input.action, "parse_error") == null
}

findings contains {
	"effect": "deny",
	"code": "file-path-unreadable",
	"message": "the operation names no normalised path",
} if {
	fields.field(input.action, "parse_error") == null
	count(paths) == 0
}

findings contains {
	"effect": "deny",
	"code": "file-operation-unknown",
	"message": concat("", ["the file operation ", operation, " is not one policy knows"]),
} if {
	not operation in rules.read_operations
	not operation in rules.change_operations
}

findings contains {
	"effect": "allow",
	"code": "file-read",
	"message": concat("", [operation, " of ", concat(", ", paths)]),
} if {
	operation in rules.read_operations
}

findings contains {
	"effect": "approval_required",
	"code": "file-change-requires-approval",
	"message": concat("", [operation, " of ", concat(" → ", paths), " here needs approval"]),
	"approval": "default",
} if {
	operation in rules.change_operations
	identity.changes_need_approval
}

findings contains {
	"effect": "allow",
	"code": "file-change-allowed",
	"message": concat("", [operation, " of ", concat(" → ", paths)]),
} if {
	operation in rules.change_operations
	not identity.changes_need_approval
}

findings contains {
	"effect": "deny",
	"code": "file-secret-path",
	"message": concat("", [path, " holds secrets no file operation may name"]),
} if {
	some path in paths
	secret_path(path)
}

findings contains {
	"effect": "deny",
	"code": "file-protected-path",
	"message": concat("", [operation, " would change ", path, ", which changes what the host loads or runs"]),
} if {
	operation in rules.change_operations
	some path in changed_paths
	protected_change_path(path)
}

# setuid, setgid and sticky bits on anything written or set: a program that runs as its owner.
findings contains {
	"effect": "deny",
	"code": "file-special-mode-bits",
	"message": concat("", [operation, " would set setuid, setgid or sticky bits on ", fields.text(input.action, "path")]),
} if {
	mode := input.action.attributes.mode
	is_number(mode)
	bits.and(mode, rules.special_mode_bits) != 0
}

# The paths a change writes: for a symbolic link only the link itself (its target is only named),
# for every other change every path (rename: both names; link: the file gains a name).
changed_paths := [fields.text(input.action, "path")] if {
	operation == "symlink"
} else := paths

secret_path(path) if {
	some pattern in rules.secret_paths
	glob.match(pattern, ["/"], path)
	not public_key(path, pattern)
}

public_key(path, pattern) if {
	endswith(pattern, "/id_*")
	endswith(path, rules.public_key_suffix)
}

protected_change_path(path) if {
	some pattern in rules.protected_change_paths
	glob.match(pattern, ["/"], path)
}

needs contains "read" if operation in rules.read_operations

needs contains "write" if operation in rules.change_operations
