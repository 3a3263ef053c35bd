# Mask obligations for sensitive columns a statement can return.
package portcullis.masking_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

email := {"table": "users", "column": "email", "strategy": "partial"}

ssn := {"table": "users", "column": "ssn", "strategy": "redact"}

phone := {"table": "users", "column": "phone", "strategy": "partial"}

card := {"table": "customers", "column": "card_number", "strategy": "partial"}

select_user_email := fx.stmt({
	"text": "SELECT u.id, u.email FROM users u WHERE u.id = 7",
	"operations": [{"kind": "select", "table": "users", "schema": null}],
	"tables": ["users"],
	"columns": [{"table": "users", "column": "id"}, {"table": "users", "column": "email"}],
})

test_qualified_sensitive_column_is_masked if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_user_email])
	d.effect == "allow"
	d.obligations.mask == [email]
}

test_pii_reader_sees_sensitive_columns_unmasked if {
	d := decision with input as fx.sql("agent", ["reader", "pii-reader"], "orders-db", [select_user_email])
	d.effect == "allow"
	d.obligations.mask == []
}

test_pii_reader_alone_cannot_read if {
	d := decision with input as fx.sql("agent", ["pii-reader"], "orders-db", [select_user_email])
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_unqualified_column_matches_every_table_of_the_statement if {
	st := fx.stmt({
		"text": "SELECT ssn, card_number FROM users JOIN customers USING (id)",
		"operations": [{"kind": "select", "table": "users", "schema": null}, {"kind": "select", "table": "customers", "schema": null}],
		"tables": ["users", "customers"],
		"columns": [{"table": null, "column": "ssn"}, {"table": null, "column": "card_number"}, {"table": null, "column": "id"}],
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	{m | some m in d.obligations.mask} == {ssn, card}
}

test_unqualified_column_of_a_table_not_in_the_statement_is_not_masked if {
	st := fx.stmt({
		"text": "SELECT email FROM newsletter",
		"operations": [{"kind": "select", "table": "newsletter", "schema": null}],
		"tables": ["newsletter"],
		"columns": [{"table": null, "column": "email"}],
	})
	# newsletter known as a table: otherwise it might be a view, and every sensitive column is masked.
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
		with data.portcullis.sql_rules.base_tables as ["orders", "newsletter"]
	d.effect == "allow"
	d.obligations.mask == []
}

test_star_select_masks_every_sensitive_column_of_the_table if {
	st := fx.stmt({
		"text": "SELECT * FROM users",
		"operations": [{"kind": "select", "table": "users", "schema": null}],
		"tables": ["users"],
		"star_tables": ["users"],
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	{m | some m in d.obligations.mask} == {email, ssn, phone}
	count(d.obligations.mask) == 3
}

test_non_sensitive_columns_are_not_masked if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d.obligations.mask == []
}

test_copy_of_a_whole_table_to_stdout_masks_its_sensitive_columns if {
	copy := fx.stmt({
		"kind": "copy", "node": "CopyStmt", "text": "COPY customers TO STDOUT",
		"operations": [], "tables": ["customers"], "copy": {"program": false, "filename": null, "is_from": false},
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [copy])
	d.effect == "allow"
	d.obligations.mask == [card]
}

test_returning_a_sensitive_column_from_a_held_write_is_masked if {
	st := fx.stmt({
		"kind": "update", "node": "UpdateStmt", "text": "UPDATE users SET phone = NULL WHERE id = 7 RETURNING email",
		"operations": [{"kind": "update", "table": "users", "schema": null, "has_where": true}],
		"tables": ["users"],
		"columns": [{"table": "users", "column": "phone"}, {"table": "users", "column": "id"}, {"table": "users", "column": "email"}],
		"writes": true,
	})
	d := decision with input as fx.sql("agent", ["writer"], "orders-db", [st])
	d.effect == "approval_required"
	{m | some m in d.obligations.mask} == {email, phone}
}

test_execute_masks_every_sensitive_column if {
	execute := fx.stmt({"kind": "execute", "node": "ExecuteStmt", "text": "EXECUTE q1(7)", "operations": []})
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [execute])
	d.effect == "allow"
	{m | some m in d.obligations.mask} == {email, ssn, phone, card}
}

test_denied_statement_carries_no_masks if {
	st := object.union(select_user_email, {"functions": ["pg_sleep"]})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.effect == "deny"
	d.obligations.mask == []
}

test_column_case_does_not_hide_a_sensitive_column if {
	st := object.union(select_user_email, {"columns": [{"table": "Users", "column": "EMAIL"}]})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.obligations.mask == [email]
}

test_only_sql_actions_carry_masks if {
	req := fx.shell("agent", ["reader"], "web-1", "ls", [fx.cmd("ls", [])])
	d := decision with input as object.union(req, {"action": {"statements": [fx.stmt({"star_tables": ["users"], "tables": ["users"]})]}})
	d.effect == "allow"
	d.obligations.mask == []
}
