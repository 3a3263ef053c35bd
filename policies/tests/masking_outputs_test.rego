# Mask obligations from output provenance: every sensitive column a returned column is computed from.
package portcullis.masking_outputs_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

email := {"table": "users", "column": "email", "strategy": "partial"}

ssn := {"table": "users", "column": "ssn", "strategy": "redact"}

phone := {"table": "users", "column": "phone", "strategy": "partial"}

card := {"table": "customers", "column": "card_number", "strategy": "partial"}

output(name, derived_from) := {"name": name, "star": false, "star_table": null, "direct": null, "derived_from": derived_from}

# `SELECT upper(x) FROM users AS u(id, x)`: the alias list renames a column the parse cannot name.
test_whole_row_provenance_masks_every_sensitive_column_of_the_table if {
	st := fx.stmt({
		"text": "SELECT upper(x) FROM users AS u(id, x)",
		"operations": [{"kind": "select", "table": "users", "schema": null}],
		"tables": ["users"],
		"columns": [{"table": "users", "column": "x"}],
		"outputs": [output("upper", [{"table": "users", "column": "*"}])],
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.effect == "allow"
	{m | some m in d.obligations.mask} == {email, ssn, phone}
}

test_a_column_an_output_is_derived_from_is_masked if {
	st := fx.stmt({
		"text": "SELECT s.v FROM (SELECT lower(card_number) AS v FROM customers) s",
		"operations": [{"kind": "select", "table": "customers", "schema": null}],
		"tables": ["customers"],
		"outputs": [output("v", [{"table": "Customers", "column": "CARD_NUMBER"}])],
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.obligations.mask == [card]
}

test_outputs_derived_from_non_sensitive_columns_add_no_mask if {
	st := object.union(fx.select_order_totals, {"outputs": [
		output("id", [{"table": "orders", "column": "id"}]),
		output("total", [{"table": "orders", "column": "total"}]),
	]})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.obligations.mask == []
}

test_statement_without_outputs_adds_no_mask if {
	st := object.union(fx.select_order_totals, {"outputs": null})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.effect == "allow"
	d.obligations.mask == []
}

test_pii_reader_gets_no_masks_from_outputs if {
	st := fx.stmt({
		"text": "SELECT upper(ssn) FROM users",
		"operations": [{"kind": "select", "table": "users", "schema": null}],
		"tables": ["users"],
		"outputs": [output("upper", [{"table": "users", "column": "ssn"}])],
	})
	reader := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	reader.obligations.mask == [ssn]
	pii := decision with input as fx.sql("agent", ["reader", "pii-reader"], "orders-db", [st])
	pii.obligations.mask == []
}

test_call_masks_every_sensitive_column if {
	call := fx.stmt({"kind": "call", "node": "CallStmt", "text": "CALL report(7)", "operations": [], "functions": ["report"]})
	d := decision with input as fx.sql("human", ["writer"], "analytics-db", [call])
	d.effect == "allow"
	{m | some m in d.obligations.mask} == {email, ssn, phone, card}
}

test_computed_strategy_is_passed_on_with_the_obligation if {
	st := fx.stmt({
		"text": "SELECT reverse(email) FROM users",
		"operations": [{"kind": "select", "table": "users", "schema": null}],
		"tables": ["users"],
		"columns": [{"table": "users", "column": "email"}],
	})
	columns := object.union(data.portcullis.sensitive_columns, {"users": {"email": {"strategy": "partial", "computed_strategy": "hash"}}})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st]) with data.portcullis.sensitive_columns as columns
	{"table": "users", "column": "email", "strategy": "partial", "computed_strategy": "hash"} in d.obligations.mask
	plain := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	{"table": "users", "column": "email", "strategy": "partial"} in plain.obligations.mask
}
