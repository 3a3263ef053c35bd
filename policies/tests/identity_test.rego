# Authentication, resources from data, and role grants.
package portcullis.identity_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

test_unauthenticated_principal_is_denied_with_its_error if {
	req := fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d := decision with input as object.union(req, {"principal": {"authenticated": false, "error": "token-expired", "roles": ["reader"]}})
	d.effect == "deny"
	"unauthenticated" in fx.codes(d)
	some r in d.reasons
	r.code == "unauthenticated"
	contains(r.message, "token-expired")
}

test_authenticated_must_be_exactly_true if {
	req := fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d := decision with input as object.union(req, {"principal": {"authenticated": "true"}})
	d.effect == "deny"
	"unauthenticated" in fx.codes(d)
}

test_authenticated_reader_is_allowed if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d.effect == "allow"
	not "unauthenticated" in fx.codes(d)
}

test_unknown_resource_is_denied if {
	req := fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d := decision with input as object.union(req, {"resource": {"name": "billing-db"}})
	d.effect == "deny"
	"unknown-resource" in fx.codes(d)
}

test_resource_type_differing_from_data_is_denied if {
	req := fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d := decision with input as object.union(req, {"resource": {"type": "mysql"}})
	d.effect == "deny"
	"resource-type-mismatch" in fx.codes(d)
}

test_missing_resource_type_is_denied if {
	req := fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d := decision with input as json.remove(req, ["resource/type"])
	d.effect == "deny"
	"resource-type-mismatch" in fx.codes(d)
}

test_environment_comes_from_data_not_from_the_pep if {
	# The PEP claims staging; data says orders-db is production, so the write waits for approval.
	req := fx.sql("agent", ["writer"], "orders-db", [fx.update_order])
	d := decision with input as object.union(req, {"resource": {"environment": "staging"}})
	d.effect == "approval_required"
}

test_action_type_must_fit_the_resource_type if {
	d := decision with input as fx.shell("agent", ["reader"], "orders-db", "ls", [fx.cmd("ls", [])])
	d.effect == "deny"
	"unsupported-action" in fx.codes(d)
}

test_ssh_resources_take_shell_actions if {
	d := decision with input as fx.shell("agent", ["reader"], "web-1", "ls", [fx.cmd("ls", [])])
	d.effect == "allow"
}

test_no_roles_is_insufficient if {
	d := decision with input as fx.sql("agent", [], "orders-db", [fx.select_order_totals])
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_unknown_roles_grant_nothing if {
	d := decision with input as fx.sql("agent", ["superuser", "pep"], "orders-db", [fx.select_order_totals])
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_roles_that_are_not_a_list_grant_nothing if {
	req := fx.sql("agent", [], "orders-db", [fx.select_order_totals])
	d := decision with input as object.union(req, {"principal": {"roles": "reader"}})
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_reader_cannot_write if {
	d := decision with input as fx.sql("agent", ["reader"], "analytics-db", [fx.update_order])
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_dba_grants_write_on_postgres if {
	d := decision with input as fx.sql("agent", ["dba"], "analytics-db", [fx.update_order])
	d.effect == "allow"
	fx.codes(d) == {"sql-write-allowed"}
}

test_dba_grants_nothing_on_kubernetes if {
	d := decision with input as fx.kube("human", ["dba"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods", fx.resource_request("list", "pods", "", "prod", ""))
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_missing_kind_counts_as_agent if {
	req := fx.sql("human", ["dba"], "analytics-db", [fx.create_index])
	d := decision with input as json.remove(req, ["principal/kind"])
	d.effect == "deny"
	"sql-privileged-statement-by-agent" in fx.codes(d)
}
