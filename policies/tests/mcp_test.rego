# MCP requests through the gateway (mcp.rego): tool-level rules, tools/list hiding, arguments
# judged by the SQL, shell and file rules, resources, prompts, server-to-agent requests, masks.
package portcullis.mcp_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

servers := {
	"mcp-files": {"type": "mcp", "environment": "staging"},
	"mcp-files-prod": {"type": "mcp", "environment": "production"},
	"mcp-everything": {"type": "mcp", "environment": "staging"},
	"mcp-db": {"type": "mcp", "environment": "staging"},
	"mcp-db-prod": {"type": "mcp", "environment": "production"},
	"mcp-shell": {"type": "mcp", "environment": "production"},
}

request(kind, roles, server, action) := {
	"principal": fx.principal(kind, roles),
	"pep": {"sub": "pep-mcp", "roles": ["pep"]},
	"resource": {"type": "mcp", "name": server, "environment": servers[server].environment, "labels": {}},
	"action": action,
	"session": {"id": "sess-0001", "client_addr": "10.0.0.7:51234"},
}

on(kind, roles, server, action) := d if {
	d := decision with input as request(kind, roles, server, action)
}

# A shell tool's server, added to data only by the tests that use it.
with_shell_server := object.union(data.portcullis.resources, {"mcp-shell": {"type": "mcp", "environment": "production"}})

shell_rules := object.union(data.portcullis.mcp_rules, {
	"tool_arguments": object.union(data.portcullis.mcp_rules.tool_arguments, {"mcp-shell": {"run": {"command": "shell"}}}),
	"servers": object.union(data.portcullis.mcp_rules.servers, {"mcp-shell": {"host": "web-1"}}),
})

on_shell(kind, roles, action) := d if {
	d := decision with input as request(kind, roles, "mcp-shell", action)
		with data.portcullis.resources as with_shell_server
		with data.portcullis.mcp_rules as shell_rules
}

read_only := {"readOnlyHint": true, "openWorldHint": false}

destructive := {"readOnlyHint": false, "destructiveHint": true}

additive := {"readOnlyHint": false, "destructiveHint": false, "idempotentHint": true}

call(tool, annotations, arguments, analysis) := {
	"type": "mcp",
	"method": "tools/call",
	"tool": tool,
	"annotations": annotations,
	"arguments": arguments,
	"argument_analysis": analysis,
}

root := "/tmp/portcullis-mcp-fs-a1b2"

path_arg(paths) := {"kind": "path", "paths": paths, "parse_error": null}

file_call(tool, annotations, path) := call(tool, annotations, {"path": path}, {"path": path_arg([path])})

sql_arg(statements) := {
	"kind": "sql",
	"sql": concat("; ", [st.text | some st in statements]),
	"parse_error": null,
	"statements": statements,
}

query(statements) := call("query", {"readOnlyHint": false, "openWorldHint": false}, {"sql": sql_arg(statements).sql}, {"sql": sql_arg(statements)})

select_user_emails := fx.stmt({
	"text": "SELECT id, email FROM users",
	"operations": [{"kind": "select", "table": "users", "schema": null}],
	"tables": ["users"],
	"columns": [{"table": "users", "column": "id"}, {"table": "users", "column": "email"}],
	"outputs": [
		{"name": "id", "star": false, "star_table": null, "direct": {"table": "users", "column": "id"}, "is_value": true, "derived_from": [{"table": "users", "column": "id"}]},
		{"name": "email", "star": false, "star_table": null, "direct": {"table": "users", "column": "email"}, "is_value": true, "derived_from": [{"table": "users", "column": "email"}]},
	],
})

shell_arg(text, commands) := {"kind": "shell", "command": text, "parse_error": null, "commands": commands, "environment": []}

run(text, commands) := call("run", {"readOnlyHint": false}, {"command": text}, {"command": shell_arg(text, commands)})

mask_paths(d) := {m.path | some m in d.obligations.mask; m.kind == "json-path"}

# --- tool level ---

test_reader_calls_a_read_only_tool if {
	d := on("agent", ["reader"], "mcp-files-prod", file_call("read_text_file", read_only, concat("/", [root, "notes.txt"])))
	d.effect == "allow"
	fx.codes(d) == {"mcp-tool-read-only", "file-read"}
}

test_no_role_calls_nothing if {
	d := on("agent", [], "mcp-everything", call("echo", read_only, {"message": "hi"}, {}))
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_reader_calls_no_tool_that_may_change_something if {
	every annotations in [destructive, additive, {}, {"readOnlyHint": true, "destructiveHint": true}] {
		d := on("agent", ["reader"], "mcp-everything", call("trigger", annotations, {}, {}))
		d.effect == "deny"
		"insufficient-role" in fx.codes(d)
	}
}

test_tool_without_annotations_is_destructive if {
	d := on("agent", ["writer"], "mcp-files-prod", file_call("write_file", {}, concat("/", [root, "a.txt"])))
	d.effect == "approval_required"
	"mcp-destructive-tool-requires-approval" in fx.codes(d)
}

test_writer_calls_destructive_tool_in_staging if {
	d := on("agent", ["writer"], "mcp-everything", call("trigger", destructive, {}, {}))
	d.effect == "allow"
	fx.codes(d) == {"mcp-tool-change"}
}

test_writer_calls_destructive_tool_in_production_with_approval if {
	d := on("agent", ["writer"], "mcp-files-prod", file_call("write_file", destructive, concat("/", [root, "a.txt"])))
	d.effect == "approval_required"
	fx.codes(d) == {"mcp-destructive-tool-requires-approval", "file-change-requires-approval"}
	d.approval.quorum == 1
}

test_writer_calls_non_destructive_tool_in_production_without_tool_approval if {
	d := on("agent", ["writer"], "mcp-db-prod", call("note", additive, {}, {}))
	d.effect == "allow"
	fx.codes(d) == {"mcp-tool-change"}
}

test_denied_tool_is_denied_to_everyone if {
	d := on("human", ["writer", "dba"], "mcp-db", call("connect_db", {"readOnlyHint": false, "openWorldHint": true}, {}, {}))
	d.effect == "deny"
	"mcp-tool-denied" in fx.codes(d)
}

test_call_without_tool_name_is_denied if {
	d := on("agent", ["writer"], "mcp-everything", {"type": "mcp", "method": "tools/call"})
	d.effect == "deny"
	"mcp-tool-unnamed" in fx.codes(d)
}

test_unauthenticated_is_denied if {
	d := decision with input as object.union(request("agent", ["writer"], "mcp-everything", call("echo", read_only, {}, {})), {"principal": {"authenticated": false, "error": "expired"}})
	d.effect == "deny"
	"unauthenticated" in fx.codes(d)
}

test_mcp_session_opens_with_read_access if {
	d := on("agent", ["reader"], "mcp-files", {"type": "connect", "protocol": "mcp"})
	d.effect == "allow"
	fx.codes(d) == {"session-open"}
}

# --- tools/list ---

listed := [
	{"name": "read_text_file", "annotations": read_only},
	{"name": "write_file", "annotations": destructive},
	{"name": "create_directory", "annotations": additive},
	{"name": "mystery"},
	{"name": "query", "annotations": {"readOnlyHint": false}},
	{"name": "connect_db", "annotations": {"readOnlyHint": false}},
]

test_tools_list_hides_what_tool_rules_always_deny_a_reader if {
	d := on("agent", ["reader"], "mcp-db", {"type": "mcp", "method": "tools/list", "tools": listed})
	d.effect == "allow"
	fx.codes(d) == {"mcp-tools-list"}
	# query stays: its SQL decides, and a SELECT is the reader's.
	d.obligations.hidden_tools == ["connect_db", "create_directory", "mystery", "write_file"]
	d.obligations.mask == []
}

test_tools_list_hides_only_denied_tools_from_a_writer if {
	d := on("agent", ["writer"], "mcp-db", {"type": "mcp", "method": "tools/list", "tools": listed})
	d.effect == "allow"
	d.obligations.hidden_tools == ["connect_db"]
}

test_tools_list_needs_read_access if {
	d := on("agent", [], "mcp-db", {"type": "mcp", "method": "tools/list", "tools": listed})
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_only_tools_list_carries_hidden_tools if {
	d := on("agent", ["reader"], "mcp-everything", call("echo", read_only, {}, {}))
	not "hidden_tools" in object.keys(d.obligations)
}

# --- arguments: paths ---

test_write_inside_a_root_is_allowed_in_staging if {
	d := on("agent", ["writer"], "mcp-files", file_call("write_file", destructive, concat("/", [root, "dir/a.txt"])))
	d.effect == "allow"
	fx.codes(d) == {"mcp-tool-change", "file-change-allowed"}
}

test_write_outside_the_roots_is_denied if {
	every path in ["/srv/app/a.txt", "/tmp/portcullis-mcp-fsx/a.txt", "/tmp/other/portcullis-mcp-fs-1/a"] {
		d := on("agent", ["writer"], "mcp-files", file_call("write_file", destructive, path))
		d.effect == "deny"
		"mcp-write-outside-roots" in fx.codes(d)
	}
}

test_move_checks_every_path_against_the_roots if {
	d := on("agent", ["writer"], "mcp-files", call("move_file", destructive, {"source": concat("/", [root, "a"]), "destination": "/srv/a"}, {
		"source": path_arg([concat("/", [root, "a"])]),
		"destination": path_arg(["/srv/a"]),
	}))
	d.effect == "deny"
	"mcp-write-outside-roots" in fx.codes(d)
}

# A server that calls a write tool read-only (adversary M2): its path arguments are still a write,
# unless data names the tool as reading (read_only_tools).
test_a_path_tool_the_server_calls_read_only_is_a_write_unless_data_says_it_reads if {
	lying := {"readOnlyHint": true, "destructiveHint": false}
	reader := on("agent", ["reader"], "mcp-files", file_call("write_file", lying, concat("/", [root, "a.txt"])))
	reader.effect == "deny"
	writer := on("agent", ["writer"], "mcp-files", file_call("write_file", lying, "/srv/app/a.txt"))
	writer.effect == "deny"
	"mcp-write-outside-roots" in fx.codes(writer)
	listed := on("agent", ["reader"], "mcp-files", {"type": "mcp", "method": "tools/list", "tools": [{"name": "write_file", "annotations": lying}, {"name": "read_text_file", "annotations": read_only}]})
	listed.obligations.hidden_tools == ["write_file"]
}

# A fenced server's tool whose arguments data does not name (adversary M9): denied and hidden,
# unless data says it takes no path.
test_a_fenced_server_runs_no_tool_policy_cannot_judge if {
	d := on("agent", ["writer"], "mcp-files", call("copy_file", destructive, {"from": "/tmp/portcullis-mcp-fs-a1b2/a", "to": "/srv/a"}, {}))
	d.effect == "deny"
	"mcp-tool-not-judged" in fx.codes(d)
	listed := on("agent", ["writer"], "mcp-files", {"type": "mcp", "method": "tools/list", "tools": [{"name": "copy_file", "annotations": destructive}, {"name": "list_allowed_directories", "annotations": read_only}]})
	listed.obligations.hidden_tools == ["copy_file"]
	allowed := on("agent", ["reader"], "mcp-files", call("list_allowed_directories", read_only, {}, {}))
	allowed.effect == "allow"
	unfenced := on("agent", ["writer"], "mcp-everything", call("copy_file", destructive, {}, {}))
	not "mcp-tool-not-judged" in fx.codes(unfenced)
}

test_a_path_tool_data_names_as_reading_reads_outside_the_roots if {
	# Judged as a read: only a server that confines reads refuses it, and then as a read.
	d := on("agent", ["reader"], "mcp-files", file_call("read_text_file", read_only, "/srv/app/a.txt"))
	fx.codes(d) == {"mcp-read-outside-roots"}
	unconfined := decision with input as request("agent", ["reader"], "mcp-files", file_call("read_text_file", read_only, "/srv/app/a.txt"))
		with data.portcullis.mcp_rules.servers["mcp-files"].confine_reads as false
	unconfined.effect == "allow"
	not "mcp-write-outside-roots" in fx.codes(unconfined)
}

test_reading_outside_the_roots_meets_the_file_rules if {
	d := on("agent", ["reader"], "mcp-files", file_call("read_text_file", read_only, "/etc/shadow"))
	d.effect == "deny"
	"file-secret-path" in fx.codes(d)
}

test_write_to_a_protected_path_inside_a_root_is_denied if {
	d := on("agent", ["writer"], "mcp-files", file_call("write_file", destructive, concat("/", [root, ".ssh/authorized_keys"])))
	d.effect == "deny"
	"file-protected-path" in fx.codes(d)
}

test_a_path_array_is_judged_path_by_path if {
	d := on("agent", ["reader"], "mcp-files", call("read_multiple_files", read_only, {"paths": ["/tmp/x", "/root/.bashrc"]}, {"paths": path_arg(["/tmp/x", "/root/.bashrc"])}))
	d.effect == "deny"
	"file-secret-path" in fx.codes(d)
}

test_a_named_argument_not_analysed_is_denied if {
	# What a bundle activated between the analysis and the evaluation names, and the PDP did not analyse.
	every analysis in [{}, {"path": {"kind": "sql", "sql": "", "parse_error": null, "statements": []}}] {
		d := on("agent", ["reader"], "mcp-files", call("read_text_file", read_only, {"path": "/tmp/x"}, analysis))
		d.effect == "deny"
		"mcp-argument-not-analysed" in fx.codes(d)
	}
}

test_an_unreadable_argument_is_denied if {
	d := on("agent", ["reader"], "mcp-files", call("read_text_file", read_only, {"path": "../x"}, {"path": {"kind": "path", "paths": [], "parse_error": "argument path path has a .. segment"}}))
	d.effect == "deny"
	"mcp-argument-unreadable" in fx.codes(d)
}

# --- arguments: SQL, by the Postgres rules ---

test_reader_selects_through_a_database_tool if {
	d := on("agent", ["reader"], "mcp-db", query([fx.select_order_totals]))
	d.effect == "allow"
	fx.codes(d) == {"sql-read-allowed"}
}

test_reader_writes_nothing_through_a_database_tool if {
	d := on("agent", ["reader"], "mcp-db", query([fx.update_order]))
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_database_tool_writes_need_approval_where_the_database_needs_it if {
	staging := on("agent", ["writer"], "mcp-db", query([fx.update_order]))
	staging.effect == "allow"
	fx.codes(staging) == {"sql-write-allowed"}
	production := on("agent", ["writer"], "mcp-db-prod", query([fx.update_order]))
	production.effect == "approval_required"
	fx.codes(production) == {"sql-write-requires-approval"}
}

test_database_tool_meets_every_sql_rule if {
	d := on("agent", ["writer", "dba"], "mcp-db-prod", query([fx.create_index]))
	d.effect == "deny"
	"sql-privileged-statement-by-agent" in fx.codes(d)
}

test_unparsable_sql_argument_is_denied if {
	d := on("agent", ["writer"], "mcp-db", call("query", {}, {"sql": "SELEC 1"}, {"sql": {"kind": "sql", "sql": "SELEC 1", "parse_error": "syntax error at or near \"SELEC\"", "statements": []}}))
	d.effect == "deny"
	"mcp-argument-unreadable" in fx.codes(d)
}

test_database_results_are_masked_by_column if {
	d := on("agent", ["reader"], "mcp-db", query([select_user_emails]))
	d.effect == "allow"
	mask_paths(d) == {"$.rows[*][\"email\"]"}
	some m in d.obligations.mask
	m.kind == "json-path"
	m.strategy == "partial"
	some detectors in d.obligations.mask
	detectors.kind == "byte-stream"
}

test_unmasked_principals_get_no_row_masks_or_detectors if {
	d := on("human", ["reader", "pii-reader"], "mcp-db", query([select_user_emails]))
	d.effect == "allow"
	d.obligations.mask == []
	d.obligations.unmasked == true
}

test_untraceable_results_are_redacted_whole if {
	d := on("agent", ["writer"], "mcp-db", query([fx.stmt({"kind": "execute", "node": "ExecuteStmt", "text": "EXECUTE q", "operations": []})]))
	d.effect == "allow"
	"$.rows[*].*" in mask_paths(d)
}

test_a_view_column_is_redacted if {
	view := fx.stmt({
		"text": "SELECT contact FROM user_contacts",
		"tables": ["user_contacts"],
		"outputs": [{"name": "contact", "star": false, "star_table": null, "direct": {"table": "user_contacts", "column": "contact"}, "is_value": true, "derived_from": [{"table": "user_contacts", "column": "contact"}]}],
	})
	d := on("agent", ["reader"], "mcp-db", query([view]))
	some m in d.obligations.mask
	m.path == "$.rows[*][\"contact\"]"
	m.strategy == "redact"
}

star_over(table, sources) := fx.stmt({
	"text": concat("", ["SELECT * FROM ", table]),
	"tables": [table],
	"star_tables": [table],
	"outputs": [{"name": "*", "star": true, "star_table": table, "direct": null, "is_value": false, "derived_from": sources}],
})

test_a_star_over_a_sensitive_table_masks_its_sensitive_columns_by_name if {
	d := on("agent", ["reader"], "mcp-db", query([star_over("users", [{"table": "users", "column": "*"}])]))
	d.effect == "allow"
	{[m.path, m.strategy] | some m in d.obligations.mask; m.kind == "json-path"} == {
		["$.rows[*][\"email\"]", "partial"],
		["$.rows[*][\"ssn\"]", "redact"],
		["$.rows[*][\"phone\"]", "partial"],
	}
}

test_a_star_over_a_table_without_sensitive_columns_masks_nothing if {
	d := on("agent", ["reader"], "mcp-db", query([star_over("orders", [{"table": "orders", "column": "*"}])]))
	d.effect == "allow"
	mask_paths(d) == set()
}

test_a_star_over_a_view_or_a_renaming_subquery_redacts_every_value if {
	view := on("agent", ["reader"], "mcp-db", query([star_over("user_contacts", [{"table": "user_contacts", "column": "*"}])]))
	mask_paths(view) == {"$.rows[*].*"}
	subquery := fx.stmt({
		"text": "SELECT * FROM (SELECT email AS e FROM users) s",
		"tables": ["users"],
		"outputs": [{"name": "*", "star": true, "star_table": null, "direct": null, "is_value": false, "derived_from": [{"table": "users", "column": "email"}]}],
	})
	renamed := on("agent", ["reader"], "mcp-db", query([subquery]))
	mask_paths(renamed) == {"$.rows[*].*"}
}

test_sensitive_results_a_server_cannot_have_masked_are_denied if {
	d := decision with input as request("agent", ["reader"], "mcp-db", query([select_user_emails]))
		with data.portcullis.mcp_rules.servers["mcp-db"].sql_result_rows as null
	d.effect == "deny"
	"mcp-sql-results-unmaskable" in fx.codes(d)
	clear := decision with input as request("human", ["reader", "pii-reader"], "mcp-db", query([select_user_emails]))
		with data.portcullis.mcp_rules.servers["mcp-db"].sql_result_rows as null
	clear.effect == "allow"
	plain := decision with input as request("agent", ["reader"], "mcp-db", query([fx.select_order_totals]))
		with data.portcullis.mcp_rules.servers["mcp-db"].sql_result_rows as null
	plain.effect == "allow"
}

# --- arguments: shell, by the SSH rules ---

test_reader_runs_a_read_only_command_through_a_shell_tool if {
	d := on_shell("agent", ["reader"], run("ls -l /srv", [fx.cmd("ls", ["-l", "/srv"])]))
	d.effect == "allow"
	fx.codes(d) == {"shell-read-only-command"}
}

test_shell_tool_changes_need_writer_and_approval if {
	reader := on_shell("agent", ["reader"], run("touch /srv/a", [fx.cmd("touch", ["/srv/a"])]))
	reader.effect == "deny"
	"insufficient-role" in fx.codes(reader)
	writer := on_shell("agent", ["writer"], run("touch /srv/a", [fx.cmd("touch", ["/srv/a"])]))
	writer.effect == "approval_required"
	"shell-command-requires-approval" in fx.codes(writer)
}

test_shell_tool_meets_every_shell_rule if {
	d := on_shell("human", ["writer"], run("eval x", [fx.cmd("eval", ["x"])]))
	d.effect == "deny"
}

# --- resources and prompts ---

read_uri(u) := {"type": "mcp", "method": "resources/read", "uri": u}

test_reader_reads_a_resource if {
	d := on("agent", ["reader"], "mcp-everything", read_uri("test://static/resource/1"))
	d.effect == "allow"
	fx.codes(d) == {"mcp-resource-read"}
}

test_resource_read_needs_read_access if {
	d := on("agent", [], "mcp-everything", read_uri("test://static/resource/1"))
	d.effect == "deny"
}

test_denied_uri_prefixes_are_denied_in_any_case if {
	every u in ["file:///etc/passwd", "FILE:///etc/hosts", "file:///proc/1/environ"] {
		d := on("agent", ["reader"], "mcp-everything", read_uri(u))
		d.effect == "deny"
		"mcp-resource-denied" in fx.codes(d)
	}
}

test_ambiguous_uris_are_denied if {
	every u in ["", "file:///srv/../etc/passwd", "file:///srv/%2e%2e/etc/passwd", "test://x/./y", "test://x\\y", "file:///srv/%65tc"] {
		d := on("agent", ["reader"], "mcp-everything", read_uri(u))
		d.effect == "deny"
		"mcp-resource-uri-unreadable" in fx.codes(d)
	}
}

test_file_uris_meet_the_file_rules if {
	d := on("agent", ["reader"], "mcp-everything", read_uri("file:///home/deploy//.ssh/id_ed25519"))
	d.effect == "deny"
	"file-secret-path" in fx.codes(d)
}

test_reader_gets_a_prompt if {
	d := on("agent", ["reader"], "mcp-everything", {"type": "mcp", "method": "prompts/get", "prompt": "simple_prompt", "arguments": {}})
	d.effect == "allow"
	fx.codes(d) == {"mcp-prompt-get"}
}

test_denied_prompt_is_denied if {
	d := decision with input as request("agent", ["reader"], "mcp-everything", {"type": "mcp", "method": "prompts/get", "prompt": "leaky"})
		with data.portcullis.mcp_rules.servers as {"mcp-everything": {"denied_prompts": ["leaky"]}}
	d.effect == "deny"
	"mcp-prompt-denied" in fx.codes(d)
}

# --- requests the server sends the agent ---

to_client(m) := {"type": "mcp", "method": m, "direction": "to_client", "params": {}}

test_roots_and_elicitation_pass_by_default if {
	every m in ["roots/list", "elicitation/create"] {
		d := on("agent", ["reader"], "mcp-everything", to_client(m))
		d.effect == "allow"
		fx.codes(d) == {"mcp-server-request-allowed"}
		d.obligations.mask == []
	}
}

# Adversary M4: the agent's answer would move the folders a fenced server serves.
test_a_server_whose_paths_policy_fences_does_not_ask_the_agent_for_roots if {
	every server in ["mcp-files", "mcp-files-prod"] {
		d := on("agent", ["writer"], server, to_client("roots/list"))
		d.effect == "deny"
		fx.codes(d) == {"mcp-server-request-refused"}
	}
	opted_in := decision with input as request("agent", ["reader"], "mcp-files", to_client("roots/list"))
		with data.portcullis.mcp_rules.servers["mcp-files"] as {"roots": ["/srv/*"], "to_client": {"roots/list": true}}
	opted_in.effect == "allow"
}

test_sampling_passes_only_where_data_opts_in if {
	refused := on("agent", ["reader"], "mcp-files", to_client("sampling/createMessage"))
	refused.effect == "deny"
	fx.codes(refused) == {"mcp-server-request-refused"}
	allowed := on("agent", ["reader"], "mcp-everything", to_client("sampling/createMessage"))
	allowed.effect == "allow"
}

test_a_server_may_turn_a_default_off if {
	d := decision with input as request("agent", ["reader"], "mcp-everything", to_client("roots/list"))
		with data.portcullis.mcp_rules.servers as {"mcp-everything": {"to_client": {"roots/list": false}}}
	d.effect == "deny"
}

# The reference filesystem server serves the roots an agent names instead of its own folders.
test_filesystem_servers_never_ask_the_agent_for_roots if {
	every server in ["mcp-files", "mcp-files-prod"] {
		d := on("human", ["reader", "writer"], server, to_client("roots/list"))
		d.effect == "deny"
		fx.codes(d) == {"mcp-server-request-refused"}
	}
}

test_confined_reads_stay_under_the_roots if {
	outside := on("agent", ["reader"], "mcp-files", file_call("read_text_file", read_only, "/etc/passwd"))
	outside.effect == "deny"
	fx.codes(outside) == {"mcp-read-outside-roots"}
	inside := on("agent", ["reader"], "mcp-files", file_call("read_text_file", read_only, concat("/", [root, "notes.txt"])))
	inside.effect == "allow"
}

test_requests_in_the_wrong_direction_are_denied if {
	server_sends_a_call := on("agent", ["writer"], "mcp-everything", object.union(call("echo", read_only, {}, {}), {"direction": "to_client"}))
	server_sends_a_call.effect == "deny"
	"mcp-method-direction" in fx.codes(server_sends_a_call)
	agent_sends_sampling := on("agent", ["writer"], "mcp-everything", {"type": "mcp", "method": "sampling/createMessage"})
	agent_sends_sampling.effect == "deny"
	"mcp-method-direction" in fx.codes(agent_sends_sampling)
}

# --- configured masks ---

masked_servers := {"mcp-everything": {
	"masks": {"get-env": [{"path": "$.env.*", "strategy": "redact"}], "*": [{"path": "$.token"}]},
	"resource_masks": [{"path": "$.secret", "strategy": "hash"}],
}}

test_configured_json_paths_mask_tool_results if {
	d := decision with input as request("human", ["reader", "pii-reader"], "mcp-everything", call("get-env", read_only, {}, {}))
		with data.portcullis.mcp_rules.servers as masked_servers
	d.effect == "allow"
	d.obligations.mask == [
		{"kind": "json-path", "path": "$.env.*", "strategy": "redact"},
		{"kind": "json-path", "path": "$.token", "strategy": "redact"},
	]
}

test_configured_json_paths_mask_resources if {
	d := decision with input as request("agent", ["reader"], "mcp-everything", read_uri("test://static/resource/1"))
		with data.portcullis.mcp_rules.servers as masked_servers
	d.obligations.mask == [{"kind": "json-path", "path": "$.secret", "strategy": "hash"}]
}

test_detectors_apply_to_who_may_not_read_personal_data if {
	agent := on("agent", ["reader"], "mcp-db", call("list_tables", read_only, {}, {}))
	agent.obligations.mask == [{"kind": "byte-stream", "detectors": ["email", "credit-card", "iban", "us-ssn", "phone"], "strategy": "redact"}]
	human := on("human", ["reader", "pii-reader"], "mcp-db", call("list_tables", read_only, {}, {}))
	human.obligations.mask == []
}

test_a_denied_call_carries_no_masks if {
	d := on("agent", [], "mcp-db", call("list_tables", read_only, {}, {}))
	d.effect == "deny"
	d.obligations.mask == []
}

# --- decision reuse ----------------------------------------------------------------------------

test_a_read_only_call_may_stand_for_the_same_call_again if {
	d := on("agent", ["reader"], "mcp-everything", call("echo", read_only, {"message": "hi"}, {}))
	d.effect == "allow"
	d.reuse_seconds == data.portcullis.mcp_rules.decision_reuse_seconds
	d.reuse_seconds > 0
	r := on("agent", ["reader"], "mcp-files-prod", read_uri("file:///tmp/portcullis-mcp-fs-a1b2/notes.txt"))
	r.effect == "allow"
	r.reuse_seconds > 0
}

test_a_path_read_data_names_may_stand_for_the_same_call_again if {
	d := on("agent", ["reader"], "mcp-files-prod", file_call("read_text_file", read_only, concat("/", [root, "notes.txt"])))
	d.effect == "allow"
	d.reuse_seconds > 0
}

test_no_write_database_or_shell_call_is_reused if {
	w := on("agent", ["writer"], "mcp-everything", call("trigger", additive, {}, {}))
	w.effect == "allow"
	not w.reuse_seconds
	q := on("agent", ["reader"], "mcp-db", query([fx.select_order_totals]))
	q.effect == "allow"
	not q.reuse_seconds
	l := on("agent", ["reader"], "mcp-everything", {"type": "mcp", "method": "tools/list", "tools": []})
	l.effect == "allow"
	not l.reuse_seconds
}

test_mcp_reuse_is_off_when_the_setting_is_zero if {
	d := decision with input as request("agent", ["reader"], "mcp-everything", call("echo", read_only, {"message": "hi"}, {}))
		with data.portcullis.mcp_rules.decision_reuse_seconds as 0
	d.effect == "allow"
	not d.reuse_seconds
}
