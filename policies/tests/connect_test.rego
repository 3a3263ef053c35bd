# Opening a session: the login step every PEP asks about before relaying any command.
package portcullis.connect_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

connect_action := {"type": "connect", "protocol": "postgres", "database": "orders", "user": "app", "application_name": "psql"}

test_reader_may_open_a_session if {
	d := decision with input as fx.request("agent", ["reader"], "orders-db", connect_action)
	d.effect == "allow"
	fx.codes(d) == {"session-open"}
	d.obligations.mask == []
}

test_no_role_cannot_open_a_session if {
	d := decision with input as fx.request("agent", [], "orders-db", connect_action)
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_unauthenticated_cannot_open_a_session if {
	req := object.union(fx.request("agent", ["reader"], "orders-db", connect_action), {"principal": {"authenticated": false, "error": "token-expired", "sub": null, "iss": null, "kind": "agent", "roles": []}})
	d := decision with input as req
	d.effect == "deny"
	"unauthenticated" in fx.codes(d)
}

test_unknown_resource_cannot_be_opened if {
	req := object.union(fx.request("agent", ["reader"], "orders-db", connect_action), {"resource": {"type": "postgres", "name": "nowhere-db", "environment": "production", "labels": {}}})
	d := decision with input as req
	d.effect == "deny"
	"unknown-resource" in fx.codes(d)
}
