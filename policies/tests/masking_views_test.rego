# Relations policy does not know to be tables may be views: their columns carry the view's name,
# so the PEP traces them to the base columns they come from, which needs every sensitive column's
# obligation (`mask_complete`).
package portcullis.masking_views_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

email := {"table": "users", "column": "email", "strategy": "partial"}

ssn := {"table": "users", "column": "ssn", "strategy": "redact"}

phone := {"table": "users", "column": "phone", "strategy": "partial"}

card := {"table": "customers", "column": "card_number", "strategy": "partial"}

every_sensitive_column := {email, ssn, phone, card}

select_from(tables) := fx.stmt({
	"text": concat(" ", ["SELECT name FROM", concat(", ", tables)]),
	"operations": [{"kind": "select", "table": t, "schema": null} | some t in tables],
	"tables": tables,
	"columns": [{"table": null, "column": "name"}],
	"outputs": [{"name": "name", "star": false, "star_table": null, "direct": null, "derived_from": [{"table": t, "column": "name"} | some t in tables]}],
})

test_a_relation_policy_does_not_know_masks_every_sensitive_column if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_from(["users_view"])])
	d.effect == "allow"
	{m | some m in d.obligations.mask} == every_sensitive_column
	count(d.obligations.mask) == 4
	d.obligations.mask_complete == true
}

test_a_view_next_to_a_known_table_masks_every_sensitive_column if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_from(["orders", "users_view"])])
	{m | some m in d.obligations.mask} == every_sensitive_column
	d.obligations.mask_complete == true
}

test_relation_names_are_compared_in_lower_case if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_from(["Orders"])])
	d.obligations.mask == []
	d.obligations.mask_complete == false
}

test_known_tables_alone_add_no_blanket_masks if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_from(["orders", "users"])])
	d.obligations.mask == []
	d.obligations.mask_complete == false
}

test_known_tables_come_from_data if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_from(["users_view"])])
		with data.portcullis.sql_rules.base_tables as ["users_view"]
	d.obligations.mask == []
	d.obligations.mask_complete == false
}

test_without_a_base_table_list_every_table_but_the_sensitive_ones_is_unknown if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_from(["orders"])])
		with data.portcullis.sql_rules as object.remove(data.portcullis.sql_rules, ["base_tables"])
	{m | some m in d.obligations.mask} == every_sensitive_column
	d.obligations.mask_complete == true
}

test_a_statement_reading_every_sensitive_column_is_complete_without_a_view if {
	st := fx.stmt({
		"text": "SELECT * FROM users, customers",
		"tables": ["users", "customers"],
		"star_tables": ["users", "customers"],
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	{m | some m in d.obligations.mask} == every_sensitive_column
	d.obligations.mask_complete == true
}

test_cursor_fetch_is_complete if {
	fetch := fx.stmt({
		"kind": "cursor", "node": "FetchStmt", "text": "FETCH ALL FROM c", "operations": [],
		"cursor": {"name": "c", "operation": "fetch", "hold": false},
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fetch])
	d.effect == "allow"
	d.obligations.mask_complete == true
}

test_a_pii_reader_gets_no_masks_and_reads_unmasked if {
	d := decision with input as fx.sql("agent", ["reader", "pii-reader"], "orders-db", [select_from(["users_view"])])
	d.obligations.mask == []
	d.obligations.unmasked == true
	d.obligations.mask_complete == false
}

test_a_denied_statement_is_not_complete if {
	st := object.union(select_from(["users_view"]), {"functions": ["pg_sleep"]})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.effect == "deny"
	d.obligations.mask == []
	d.obligations.mask_complete == false
}

test_no_sensitive_columns_at_all_is_complete if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_from(["users_view"])])
		with data.portcullis.sensitive_columns as {}
	d.obligations.mask == []
	d.obligations.mask_complete == true
}
