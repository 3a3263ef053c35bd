# The entrypoint's contract: always defined, strictest effect wins, output shape.
package portcullis.decision_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

test_missing_input_is_denied if {
	d := decision
	d.effect == "deny"
	"unauthenticated" in fx.codes(d)
	d.obligations == {"mask": [], "record": true, "unmasked": false, "mask_complete": false}
	not d.approval
}

test_garbage_input_is_denied if {
	d := decision with input as {"principal": "admin", "resource": 7, "action": ["DROP TABLE users"]}
	d.effect == "deny"
	"unauthenticated" in fx.codes(d)
	"unknown-resource" in fx.codes(d)
}

test_non_object_input_is_denied if {
	d := decision with input as "SELECT 1"
	d.effect == "deny"
	count(d.reasons) > 0
}

test_authenticated_request_without_action_is_denied if {
	d := decision with input as object.remove(fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals]), ["action"])
	d.effect == "deny"
	"unsupported-action" in fx.codes(d)
}

test_allow_carries_a_reason_and_record_obligation if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d.effect == "allow"
	d.reasons == [{"code": "sql-read-allowed", "message": "read-only SQL"}]
	d.obligations == {"mask": [], "record": true, "unmasked": false, "mask_complete": false}
	not d.approval
}

test_a_pii_reader_reads_unmasked if {
	d := decision with input as fx.sql("agent", ["reader", "pii-reader"], "orders-db", [fx.select_order_totals])
	d.obligations.unmasked == true
}

test_output_has_exactly_the_contract_keys_for_allow if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	{k | some k, _ in d} == {"effect", "reasons", "obligations", "reuse_seconds"}
}

test_an_allowed_dml_text_may_be_reused_for_its_shape if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals, fx.select_order_totals])
	d.effect == "allow"
	d.reuse_seconds == data.portcullis.sql_rules.decision_reuse_seconds
	d.reuse_seconds > 0
}

test_reuse_is_off_when_the_setting_is_zero if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
		with data.portcullis.sql_rules.decision_reuse_seconds as 0
	d.effect == "allow"
	not d.reuse_seconds
}

test_an_allowed_utility_statement_is_never_reused if {
	show := fx.stmt({"kind": "show", "node": "VariableShowStmt"})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals, show])
	d.effect == "allow"
	not d.reuse_seconds
}

test_approval_and_deny_are_never_reused if {
	held := decision with input as fx.sql("agent", ["writer"], "orders-db", [fx.update_order])
	held.effect == "approval_required"
	not held.reuse_seconds
	refused := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.update_order])
	refused.effect == "deny"
	not refused.reuse_seconds
}

test_output_has_approval_key_only_for_approval_required if {
	d := decision with input as fx.sql("agent", ["writer"], "orders-db", [fx.update_order])
	d.effect == "approval_required"
	{k | some k, _ in d} == {"effect", "reasons", "obligations", "approval"}
	d.approval == {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900}
}

test_deny_beats_approval_required if {
	delete_all := fx.stmt({
		"kind": "delete",
		"node": "DeleteStmt",
		"text": "DELETE FROM orders",
		"operations": [{"kind": "delete", "table": "orders", "schema": null, "has_where": false}],
		"tables": ["orders"],
		"writes": true,
	})
	d := decision with input as fx.sql("agent", ["writer"], "orders-db", [fx.update_order, delete_all])
	d.effect == "deny"
	fx.codes(d) == {"sql-delete-without-where"}
	not d.approval
}

test_approval_required_beats_allow if {
	d := decision with input as fx.sql("agent", ["writer"], "orders-db", [fx.select_order_totals, fx.update_order])
	d.effect == "approval_required"
	fx.codes(d) == {"sql-write-requires-approval"}
}

test_reason_codes_are_kebab_case if {
	req := fx.sql("agent", [], "orders-db", [fx.update_order])
	d := decision with input as object.union(req, {"resource": {"name": "nowhere-db"}})
	d.effect == "deny"
	count(d.reasons) >= 2
	every r in d.reasons {
		regex.match(`^[a-z0-9]+(-[a-z0-9]+)*$`, r.code)
		r.message != ""
	}
}

test_http_actions_have_no_rules_and_are_denied if {
	d := decision with input as fx.request("agent", ["writer"], "orders-db", {"type": "http", "method": "GET", "path": "/", "query": "", "headers": {}, "body": ""})
	d.effect == "deny"
	"unsupported-action" in fx.codes(d)
}

test_known_action_type_without_items_falls_back_to_deny if {
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/", null)
	d.effect == "deny"
	"kubernetes-unknown-request" in fx.codes(d)
}
