# Opening a session on a resource (a PEP's login step, before any command): the principal needs
# read access there. Startup details (database, user, client) are visible for stricter rules.
#
# The login name (`action.user`) means who the session acts as: the principal's own subject, or
# a name data.portcullis.login_names maps one of its roles to for that protocol (for Postgres:
# database role names). Any other name is refused, as a server refuses a role that does not exist.
package portcullis.connect

import data.portcullis.fields
import data.portcullis.identity

login_names := n if {
	n := data.portcullis.login_names
	is_object(n)
} else := {}

findings contains {
	"effect": "deny",
	"code": "login-name-unknown",
	"message": concat("", ["the login name ", user, " is neither the principal's own name nor one its roles may log in as"]),
} if {
	# An unauthenticated caller is refused for that alone: its name is not worth a second reason.
	identity.authenticated
	user := fields.text(input.action, "user")
	user != ""
	not login_name_allowed(user)
}

login_name_allowed(user) if user == identity.principal.sub

login_name_allowed(user) if {
	names := object.get(login_names, fields.text(input.action, "protocol"), {})
	some role in identity.roles
	user in object.get(names, role, [])
}

findings contains {
	"effect": "allow",
	"code": "session-open",
	"message": concat("", ["opening a session on ", identity.resource_name]),
} if {
	identity.authenticated
}

needs contains "read"

# --- SSH session requests (action.channel) ---
#
# An interactive shell cannot be gated line by line: what the PEP decides is the shell itself,
# once, and the session is recorded whole. So a shell needs write access, and agents never get
# one (nor any terminal) where changes need approval (production). exec channels are decided
# command by command, sftp operation by operation; X11 and agent forwarding are refused.

ssh_rules := data.portcullis.ssh_rules

channel := fields.text(input.action, "channel")

interactive if channel == "shell"

interactive if input.action.pty == true

findings contains {
	"effect": "deny",
	"code": "ssh-interactive-session-by-agent",
	"message": "agents get no interactive shell or terminal here: each command must be decided on its own",
} if {
	interactive
	identity.is_agent
	identity.changes_need_approval
}

findings contains {
	"effect": "allow",
	"code": "ssh-interactive-session-recorded",
	"message": "an interactive session, recorded whole",
} if {
	interactive
	not identity.is_agent
}

findings contains {
	"effect": "deny",
	"code": "ssh-subsystem-refused",
	"message": concat("", ["the subsystem ", fields.text(input.action, "subsystem"), " is not offered"]),
} if {
	channel == "subsystem"
	not fields.text(input.action, "subsystem") in ssh_rules.subsystems
}

findings contains {
	"effect": "deny",
	"code": "ssh-forwarding-refused",
	"message": concat("", [channel, " is refused"]),
} if {
	channel in ssh_rules.refused_channels
}

# A terminal makes any program interactive (a pager's or an editor's shell escape), so an exec
# with a PTY needs what a shell needs.
needs contains "write" if interactive
