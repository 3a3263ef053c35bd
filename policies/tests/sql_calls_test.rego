# What a statement makes the server run (`calls`, `locking`): a read is a read only when every
# function, operator, cast and sampling method it invokes is a reviewed side-effect-free built-in.
package portcullis.sql_calls_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

fn(name) := {"kind": "function", "schema": null, "name": name}

select_calling(calls) := fx.stmt({
	"text": "SELECT …",
	"operations": [{"kind": "select", "table": "orders", "schema": null}],
	"tables": ["orders"],
	"calls": calls,
})

reader_decision(st) := d if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
}

test_reviewed_builtins_keep_a_select_a_read if {
	st := select_calling([
		fn("lower"), fn("count"), fn("random"), fn("date_trunc"), fn("now"),
		{"kind": "function", "schema": "pg_catalog", "name": "substring"},
		{"kind": "operator", "schema": null, "name": "="},
		{"kind": "operator", "schema": null, "name": "||"},
		{"kind": "cast", "schema": "pg_catalog", "name": "int4"},
		{"kind": "cast", "schema": null, "name": "text"},
		{"kind": "tablesample", "schema": null, "name": "bernoulli"},
	])
	d := reader_decision(st)
	d.effect == "allow"
	fx.codes(d) == {"sql-read-allowed"}
}

test_user_defined_function_in_a_select_is_not_a_read if {
	st := select_calling([fn("archive_order")])
	reader := reader_decision(st)
	reader.effect == "deny"
	"insufficient-role" in fx.codes(reader)
	agent := decision with input as fx.sql("agent", ["writer"], "analytics-db", [st])
	agent.effect == "deny"
	fx.codes(agent) == {"sql-function-call-by-agent"}
	human_staging := decision with input as fx.sql("human", ["writer"], "analytics-db", [st])
	human_staging.effect == "allow"
	fx.codes(human_staging) == {"sql-code-allowed"}
	human_production := decision with input as fx.sql("human", ["writer"], "orders-db", [st])
	human_production.effect == "approval_required"
	fx.codes(human_production) == {"sql-code-requires-approval"}
}

test_calls_that_may_run_anything_are_code if {
	some call in [
		{"kind": "function", "schema": "public", "name": "lower"}, # schema-qualified outside pg_catalog
		fn("Lower"), # quoted: another function than lower
		fn("pg_logical_emit_message"),
		fn("pg_stat_reset"),
		fn("pg_cancel_backend"),
		fn("table_to_xml"),
		fn("txid_current_snapshot_of_mine"),
		{"kind": "operator", "schema": "public", "name": "+"},
		{"kind": "operator", "schema": null, "name": "===>"},
		{"kind": "cast", "schema": null, "name": "mood"},
		{"kind": "cast", "schema": "public", "name": "text"},
		{"kind": "tablesample", "schema": null, "name": "system_rows"},
	]
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [select_calling([fn("lower"), call])])
	d.effect == "deny"
	fx.codes(d) == {"sql-function-call-by-agent"}
}

test_function_call_message_names_the_calls if {
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [select_calling([fn("archive_order"), {"kind": "operator", "schema": "public", "name": "+"}])])
	some reason in d.reasons
	reason.code == "sql-function-call-by-agent"
	contains(reason.message, "function archive_order")
	contains(reason.message, "operator public.+")
}

test_a_statement_without_calls_runs_code if {
	st := json.remove(select_calling([]), ["calls"])
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [st])
	fx.codes(d) == {"sql-function-call-by-agent"}
}

test_writing_builtins_make_a_select_a_write if {
	some name in ["setval", "nextval", "pg_advisory_lock", "pg_try_advisory_xact_lock", "pg_notify", "lo_creat", "txid_current"]
	st := select_calling([fn(name)])
	reader := reader_decision(st)
	reader.effect == "deny"
	"insufficient-role" in fx.codes(reader)
	writer := decision with input as fx.sql("agent", ["writer"], "analytics-db", [st])
	writer.effect == "allow"
	fx.codes(writer) == {"sql-write-allowed"}
}

test_user_code_in_a_write_is_judged_like_call if {
	st := fx.stmt({
		"kind": "insert", "node": "InsertStmt", "text": "INSERT INTO orders VALUES (archive_order(1))",
		"operations": [{"kind": "insert", "table": "orders", "schema": null}], "tables": ["orders"],
		"writes": true, "calls": [fn("archive_order")],
	})
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [st])
	fx.codes(d) == {"sql-function-call-by-agent"}
}

test_locking_clause_makes_a_select_a_write if {
	st := fx.stmt({
		"text": "SELECT * FROM orders FOR UPDATE",
		"operations": [{"kind": "select", "table": "orders", "schema": null}], "tables": ["orders"],
		"locking": true,
	})
	reader := reader_decision(st)
	reader.effect == "deny"
	"insufficient-role" in fx.codes(reader)
	production := decision with input as fx.sql("agent", ["writer"], "orders-db", [st])
	production.effect == "approval_required"
	fx.codes(production) == {"sql-write-requires-approval"}
}

test_locking_copy_and_explain_analyze_are_writes if {
	copy := fx.stmt({"kind": "copy", "node": "CopyStmt", "locking": true, "copy": {"program": false, "filename": null, "is_from": false}})
	analyze := fx.stmt({"kind": "explain", "node": "ExplainStmt", "locking": true, "explain_analyze": true})
	some st in [copy, analyze]
	d := reader_decision(st)
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_plain_explain_of_a_locking_select_is_a_read if {
	st := fx.stmt({"kind": "explain", "node": "ExplainStmt", "locking": true})
	d := reader_decision(st)
	d.effect == "allow"
}

test_plain_explain_of_user_code_is_code if {
	# The planner may run a function declared IMMUTABLE while it plans.
	st := fx.stmt({"kind": "explain", "node": "ExplainStmt", "calls": [fn("archive_order")]})
	d := reader_decision(st)
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_forbidden_functions_stay_denied_for_everyone if {
	st := select_calling([fn("pg_read_file")])
	d := decision with input as fx.sql("human", ["dba"], "analytics-db", [object.union(st, {"functions": ["pg_read_file"]})])
	d.effect == "deny"
	"sql-forbidden-function" in fx.codes(d)
}
