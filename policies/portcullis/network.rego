# Network paths opened through an SSH host (port forwarding), judged on the address the PDP read
# as the host's resolver will (docs/policy-input.md, action.type "network").
#
# Agents never forward: a tunnel carries traffic no decision sees. Humans with write access may
# reach the host's own loopback services (ssh -L 5432:localhost:5432) — never readers: a tunnel to
# a local database or admin port goes around that service's own PEP; any other destination, and
# any listener on the host (ssh -R), needs write access and, in production, approval.
# Link-local (cloud metadata), multicast, reserved and unspecified addresses and Unix sockets
# (docker.sock is root) are refused to everyone.
package portcullis.network

import data.portcullis.fields
import data.portcullis.identity

rules := data.portcullis.network_rules

address := a if {
	a := input.action.address
	is_object(a)
} else := {}

scope := fields.text(address, "scope")

direction := fields.text(input.action, "direction")

findings contains {
	"effect": "deny",
	"code": "network-unreadable",
	"message": concat("", ["the forwarding request cannot be read: ", fields.text(input.action, "parse_error")]),
} if {
	not fields.field(input.action, "parse_error") == null
}

findings contains {
	"effect": "deny",
	"code": "network-forwarding-by-agent",
	"message": "agents may not forward ports: a tunnel carries traffic no decision sees",
} if {
	identity.is_agent
}

findings contains {
	"effect": "deny",
	"code": "network-unix-socket",
	"message": concat("", ["forwarding the Unix socket ", fields.text(input.action, "socket_path"), " is refused"]),
} if {
	fields.text(input.action, "transport") == "unix"
}

findings contains {
	"effect": "deny",
	"code": "network-destination-refused",
	"message": concat("", ["forwarding to a ", scope, " address (", fields.text(address, "value"), ") is refused"]),
} if {
	scope in rules.denied_scopes
}

loopback_outbound if {
	direction == "outbound"
	scope in rules.loopback_scopes
}

findings contains {
	"effect": "allow",
	"code": "network-loopback-forward",
	"message": concat("", ["forwarding to the host's own ", fields.text(address, "value"), ":", format_int(input.action.port, 10)]),
} if {
	loopback_outbound
}

findings contains {
	"effect": "approval_required",
	"code": "network-forward-requires-approval",
	"message": concat("", ["this ", direction, " forward needs approval"]),
	"approval": "default",
} if {
	not loopback_outbound
	identity.changes_need_approval
}

findings contains {
	"effect": "allow",
	"code": "network-forward-allowed",
	"message": concat("", [direction, " forward"]),
} if {
	not loopback_outbound
	not identity.changes_need_approval
}

needs contains "read"

needs contains "write"
