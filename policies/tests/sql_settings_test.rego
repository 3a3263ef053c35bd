# Settings changed by any route (`settings`): what the PDP's parser depends on is denied to
# everyone; set_config, pg_settings writes and ALTER SYSTEM for any setting.
package portcullis.sql_settings_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

change(route, name, value, kind) := {"route": route, "name": name, "value": value, "value_kind": kind, "local": false}

statement_changing(node, kind, changes) := fx.stmt({"kind": kind, "node": node, "text": "…", "operations": [], "settings": changes})

set_of(changes) := object.union(statement_changing("VariableSetStmt", "set", changes), {"set": {"name": set_name(changes[0]), "local": false}})

set_name(c) := lower(c.name) if is_string(c.name) else := "x"

everyone := [["agent", ["reader"]], ["human", ["reader", "writer", "dba"]], ["agent", ["dba"]]]

denied_for_everyone(st, code) if {
	every who in everyone {
		d := decision with input as fx.sql(who[0], who[1], "analytics-db", [st])
		d.effect == "deny"
		code in fx.codes(d)
	}
}

test_parser_sensitive_settings_by_every_route_are_denied if {
	every st in [
		set_of([change("set", "standard_conforming_strings", "off", "literal")]),
		set_of([change("set", "client_encoding", "SJIS", "literal")]), # SET NAMES 'SJIS' too
		set_of([change("set", "client_encoding", "BIG5", "literal")]),
		set_of([change("set", "backslash_quote", "on", "literal")]),
		set_of([change("set", "standard_conforming_strings", null, "current")]), # SET … FROM CURRENT
		set_of([change("set", "client_encoding", null, "default")]), # SET … TO DEFAULT
		set_of([change("reset", "standard_conforming_strings", null, "default")]),
		statement_changing("AlterRoleSetStmt", "role", [change("alter-role", "standard_conforming_strings", "off", "literal")]),
		statement_changing("AlterDatabaseSetStmt", "ddl", [change("alter-database", "client_encoding", "SJIS", "literal")]),
		statement_changing("CreateFunctionStmt", "ddl", [change("function-set", "standard_conforming_strings", "off", "literal")]),
		statement_changing("AlterFunctionStmt", "ddl", [change("function-set", "client_encoding", null, "current")]),
		set_of([change("set", null, null, "computed")]), # a name only known at run time
	] {
		denied_for_everyone(st, "sql-parser-sensitive-setting")
	}
}

test_the_assumed_values_stay_allowed if {
	every st in [
		set_of([change("set", "client_encoding", "UTF8", "literal")]),
		set_of([change("set", "client_encoding", "utf-8", "literal")]),
		set_of([change("set", "standard_conforming_strings", "on", "literal")]),
		set_of([change("set", "STANDARD_CONFORMING_STRINGS", " true ", "literal")]),
		set_of([change("reset", "all", null, "default")]),
	] {
		d := decision with input as fx.sql("agent", ["reader"], "orders-db", [st])
		d.effect == "allow"
		fx.codes(d) == {"sql-read-allowed"}
	}
}

test_set_config_for_any_setting_is_denied if {
	every c in [
		change("set_config", "application_name", "x", "literal"),
		change("set_config", "application_name", null, "computed"),
		change("set_config", null, "SJIS", "literal"),
	] {
		denied_for_everyone(fx.stmt({"settings": [c]}), "sql-set-config")
	}
}

test_pg_settings_writes_are_denied_for_everyone if {
	# UPDATE pg_settings SET setting = (SELECT ssn FROM users …) WHERE name = 'application_name'
	st := fx.stmt({
		"kind": "update", "node": "UpdateStmt", "writes": true,
		"operations": [{"kind": "update", "table": "pg_settings", "schema": null, "has_where": true}],
		"tables": ["pg_settings", "users"],
		"settings": [change("pg_settings", null, null, "computed")],
	})
	denied_for_everyone(st, "sql-pg-settings-write")
	denied_for_everyone(st, "sql-parser-sensitive-setting")
}

test_alter_system_is_denied_for_any_setting if {
	every c in [change("alter-system", "log_statement", "none", "literal"), change("alter-system", "all", null, "default")] {
		denied_for_everyone(statement_changing("AlterSystemStmt", "ddl", [c]), "sql-alter-system")
	}
}

test_other_settings_through_alter_role_and_functions_stay_privileged_statements if {
	st := statement_changing("AlterRoleSetStmt", "role", [change("alter-role", "statement_timeout", "5s", "literal")])
	d := decision with input as fx.sql("human", ["dba"], "analytics-db", [st])
	d.effect == "allow"
	fx.codes(d) == {"sql-privileged-statement-allowed"}
	fn := statement_changing("CreateFunctionStmt", "ddl", [change("function-set", "search_path", "pg_catalog, public", "literal")])
	f := decision with input as fx.sql("human", ["dba"], "analytics-db", [fn])
	f.effect == "allow"
}

test_search_path_by_a_function_set_clause_is_denied_for_agents_too if {
	st := set_of([change("set", "search_path", "evil, public", "literal")])
	d := decision with input as fx.sql("agent", ["dba"], "analytics-db", [st])
	"sql-setting-change-by-agent" in fx.codes(d)
}
