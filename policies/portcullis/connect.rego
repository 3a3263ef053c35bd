# Opening a session on a resource (a PEP's login step, before any command): the principal needs
# read access there. Startup details (database, user, client) are visible for stricter rules.
package portcullis.connect

import data.portcullis.identity

findings contains {
	"effect": "allow",
	"code": "session-open",
	"message": concat("", ["opening a session on ", identity.resource_name]),
} if {
	identity.authenticated
}

needs contains "read"
