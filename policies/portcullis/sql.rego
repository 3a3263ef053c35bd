# SQL on PostgreSQL resources, judged statement by statement from the PDP's parse.
# A multi-statement text gets the findings of every statement, so its strictest one decides.
package portcullis.sql

import data.portcullis.fields
import data.portcullis.identity

rules := data.portcullis.sql_rules

# Reviewed lists of built-in functions, operators, types and sampling methods (sql_catalog/data.json).
catalog := data.portcullis.sql_catalog

statements := s if {
	s := input.action.statements
	is_array(s)
} else := []

findings contains {
	"effect": "deny",
	"code": "sql-parse-error",
	"message": "the PostgreSQL parser rejected the statement text",
} if {
	not fields.field(input.action, "parse_error") == null
}

findings contains {
	"effect": "deny",
	"code": "sql-no-statements",
	"message": "the SQL text holds no statement to judge",
} if {
	count(statements) == 0
}

# Every statement gets exactly one class (the chain ends in "unknown"), so none slips through
# without a finding.
statement_class(st) := "unknown" if {
	fields.text(st, "kind") == ""
} else := "privileged" if {
	st.kind in {"ddl", "grant", "role", "truncate"}
} else := "code-block" if {
	st.kind == "do"
} else := "procedure" if {
	st.kind == "call"
} else := "function-call" if {
	runs_code(st)
} else := "opaque" if {
	st.kind == "execute"
} else := "maintenance" if {
	st.kind == "maintenance"
} else := set_class(st) if {
	st.kind == "set"
} else := copy_class(st) if {
	st.kind == "copy"
} else := explain_class(st) if {
	st.kind == "explain"
} else := cursor_class(st) if {
	st.kind == "cursor"
} else := "write" if {
	st.kind == "listen"
	st.node == "NotifyStmt"
} else := "read" if {
	st.kind == "listen"
} else := "write" if {
	st.kind == "lock"
} else := "write" if {
	st.writes == true
} else := "write" if {
	st.locking == true
} else := "write" if {
	calls_writing_function(st)
} else := "write" if {
	st.kind in {"insert", "update", "delete", "merge"}
} else := "read" if {
	st.kind in {"select", "show", "transaction", "prepare", "deallocate"}
} else := "unknown"

set_class(st) := "identity-switch" if {
	lower(set_name(st)) in rules.identity_settings
} else := "read" if {
	set_name(st) != ""
} else := "unknown"

set_name(st) := fields.text(fields.field(st, "set"), "name")

# COPY to or from the server's files or a program is denied by the guards below; what is left
# is COPY TO STDOUT (a read, unless its query writes: COPY (DELETE … RETURNING *) TO STDOUT)
# and COPY FROM STDIN (a write).
copy_class(st) := "write" if {
	st.copy.is_from == true
} else := "write" if {
	st.writes == true
} else := "write" if {
	st.locking == true
} else := "write" if {
	calls_writing_function(st)
} else := "read" if {
	st.copy.is_from == false
} else := "unknown"

# Plain EXPLAIN only plans; EXPLAIN ANALYZE runs its target (locks and all). Functions that are
# not side-effect free make any EXPLAIN a function call above: planning may run them too.
explain_class(st) := "write" if {
	st.explain_analyze == true
	st.writes == true
} else := "write" if {
	st.explain_analyze == true
	st.locking == true
} else := "write" if {
	st.explain_analyze == true
	calls_writing_function(st)
} else := "read"

# --- what a statement makes the server run (docs/policy-input.md, `calls`) ---

# A call policy knows runs nothing but a built-in without side effects: a function, operator,
# cast target or TABLESAMPLE method on the reviewed lists of sql_catalog, unqualified or in
# pg_catalog. Anything else (every user-defined function, operator or type, anything qualified
# with another schema, a name the lists do not have) may run any code, like CALL.
builtin_schema(call) if call.schema == null

builtin_schema(call) if call.schema == "pg_catalog"

reviewed_call(call) if {
	call.kind == "function"
	builtin_schema(call)
	catalog.side_effect_free_functions[call.name] == true
}

reviewed_call(call) if {
	call.kind == "operator"
	builtin_schema(call)
	catalog.builtin_operators[call.name] == true
}

reviewed_call(call) if {
	call.kind == "cast"
	builtin_schema(call)
	catalog.builtin_types[call.name] == true
}

reviewed_call(call) if {
	call.kind == "tablesample"
	builtin_schema(call)
	catalog.tablesample_methods[call.name] == true
}

# Built-ins whose only effect is a change of the kind a write makes (a sequence moved, an
# advisory lock taken, a notification sent, a transaction id assigned, a large object created).
writing_call(call) if {
	call.kind == "function"
	builtin_schema(call)
	catalog.writing_functions[call.name] == true
}

statement_calls(st) := c if {
	c := st.calls
	is_array(c)
} else := []

code_calls(st) := {call |
	some call in statement_calls(st)
	not reviewed_call(call)
	not writing_call(call)
}

# A statement without its `calls` (an older PDP) says nothing about what it runs: it runs code.
runs_code(st) if not is_array(fields.field(st, "calls"))

runs_code(st) if count(code_calls(st)) > 0

calls_writing_function(st) if {
	some call in statement_calls(st)
	writing_call(call)
}

call_label(call) := concat("", [call.kind, " ", call.schema, ".", call.name]) if {
	is_string(call.schema)
} else := concat("", [call.kind, " ", fields.text(call, "name")])

# DECLARE … CURSOR comes with its query's kind and facts, so it is judged above as that query
# (a cursor over a data-modifying CTE is a write). FETCH, MOVE and CLOSE only go on with a cursor
# whose DECLARE was judged when it was opened: they need read access. A cursor statement that
# says nothing known about what it does is unknown.
cursor_class(st) := "read" if {
	fields.field(st, "cursor").operation in {"fetch", "move", "close"}
} else := "unknown"

classes := [statement_class(st) | some st in statements]

needs contains "read" if "read" in classes

needs contains "write" if {
	some c in classes
	c in {"write", "opaque", "procedure", "function-call"}
}

needs contains "admin" if {
	some c in classes
	c in {"privileged", "code-block", "maintenance", "identity-switch"}
}

# --- reads and writes ---

findings contains {"effect": "allow", "code": "sql-read-allowed", "message": "read-only SQL"} if "read" in classes

findings contains {
	"effect": "approval_required",
	"code": "sql-write-requires-approval",
	"message": "SQL that changes data in this environment needs approval",
	"approval": "default",
} if {
	"write" in classes
	identity.changes_need_approval
}

findings contains {"effect": "allow", "code": "sql-write-allowed", "message": "SQL that changes data"} if {
	"write" in classes
	not identity.changes_need_approval
}

# --- EXECUTE: the prepared body is not visible here, so it is treated as a write ---

findings contains {
	"effect": "approval_required",
	"code": "sql-execute-requires-approval",
	"message": "EXECUTE runs a prepared statement the policy cannot see; it needs approval here",
	"approval": "default",
} if {
	"opaque" in classes
	identity.changes_need_approval
}

findings contains {"effect": "allow", "code": "sql-execute-allowed", "message": "EXECUTE of a prepared statement"} if {
	"opaque" in classes
	not identity.changes_need_approval
}

# --- DDL, GRANT/REVOKE, roles, TRUNCATE: humans with admin access only ---

findings contains {
	"effect": "deny",
	"code": "sql-privileged-statement-by-agent",
	"message": concat("", ["agents may not run ", st.kind, " statements"]),
} if {
	identity.is_agent
	some st in statements
	statement_class(st) == "privileged"
}

findings contains {
	"effect": "approval_required",
	"code": "sql-privileged-statement-requires-approval",
	"message": "schema, privilege and TRUNCATE statements need two approvals here",
	"approval": "privileged-sql",
} if {
	not identity.is_agent
	"privileged" in classes
	identity.changes_need_approval
}

findings contains {"effect": "allow", "code": "sql-privileged-statement-allowed", "message": "schema, privilege or TRUNCATE statement by an administrator"} if {
	not identity.is_agent
	"privileged" in classes
	not identity.changes_need_approval
}

# --- DO blocks and CALL run code the policy cannot inspect ---

findings contains {
	"effect": "deny",
	"code": "sql-do-block-by-agent",
	"message": "agents may not run DO blocks",
} if {
	identity.is_agent
	"code-block" in classes
}

findings contains {
	"effect": "deny",
	"code": "sql-call-by-agent",
	"message": "agents may not CALL procedures",
} if {
	identity.is_agent
	"procedure" in classes
}

# A function, operator or cast that is not a reviewed side-effect-free built-in may delete,
# lock, move a sequence or call out: it is judged like CALL, whatever statement calls it.
findings contains {
	"effect": "deny",
	"code": "sql-function-call-by-agent",
	"message": concat("", ["agents may only call reviewed side-effect-free built-ins, not ", concat(", ", sort([call_label(call) | some call in code_calls(st)]))]),
} if {
	identity.is_agent
	some st in statements
	statement_class(st) == "function-call"
}

findings contains {
	"effect": "approval_required",
	"code": "sql-code-requires-approval",
	"message": "DO blocks, CALL and calls of functions that are not reviewed built-ins run code that needs approval here",
	"approval": "default",
} if {
	not identity.is_agent
	some c in classes
	c in {"code-block", "procedure", "function-call"}
	identity.changes_need_approval
}

findings contains {"effect": "allow", "code": "sql-code-allowed", "message": "DO block, CALL or function call by a human"} if {
	not identity.is_agent
	some c in classes
	c in {"code-block", "procedure", "function-call"}
	not identity.changes_need_approval
}

# --- SET ROLE / SET SESSION AUTHORIZATION change who the database thinks is acting ---

findings contains {
	"effect": "deny",
	"code": "sql-identity-switch-by-agent",
	"message": "agents may not change the session's role or authorization",
} if {
	identity.is_agent
	"identity-switch" in classes
}

findings contains {
	"effect": "approval_required",
	"code": "sql-identity-switch-requires-approval",
	"message": "changing the session's role or authorization needs approval here",
	"approval": "default",
} if {
	not identity.is_agent
	"identity-switch" in classes
	identity.changes_need_approval
}

findings contains {"effect": "allow", "code": "sql-identity-switch-allowed", "message": "role change by an administrator"} if {
	not identity.is_agent
	"identity-switch" in classes
	not identity.changes_need_approval
}

# --- settings that change how the server reads SQL, or what unqualified names mean ---

# standard_conforming_strings, client_encoding (also SET NAMES), backslash_quote … change how
# the server reads the text of every later statement, so the PDP's parser (which assumes
# sql_rules.parser_assumed_values) would read it differently. Denied to everyone, by every route
# the PDP reports in `settings` (SET, SET LOCAL, SET … FROM CURRENT / TO DEFAULT, RESET,
# ALTER ROLE/USER/DATABASE … SET/RESET, function and procedure SET clauses), unless the value is
# the one assumed (`SET client_encoding = 'UTF8'`, which drivers send, changes nothing). A setting
# whose name the text does not give may be any of them. RESET ALL and DISCARD ALL (name "all")
# only return every setting to the value the session started with, which is what the parser
# assumes, so they stay ordinary session SETs (reads).
setting_changes(st) := c if {
	c := st.settings
	is_array(c)
} else := [{"route": "set", "name": set_name(st), "value": null, "value_kind": "computed"}] if {
	# An input without `settings` (an older PDP): the SET's name is all there is.
	set_name(st) != ""
} else := []

parser_sensitive(change) if change.name == null

parser_sensitive(change) if lower(change.name) in rules.parser_sensitive_settings

assumed_value(change) if {
	change.value_kind == "literal"
	lower(trim_space(change.value)) in rules.parser_assumed_values[lower(change.name)]
}

setting_label(change) := lower(change.name) if is_string(change.name) else := "a setting named only at run time"

findings contains {
	"effect": "deny",
	"code": "sql-parser-sensitive-setting",
	"message": concat("", ["changing ", setting_label(change), " would make the server read later SQL differently from the policy's parser"]),
} if {
	some st in statements
	some change in setting_changes(st)
	parser_sensitive(change)
	not assumed_value(change)
}

# set_config() and writes to pg_settings (which its rules turn into set_config) take a name and
# a value that may be computed from data at run time: which setting changes, and to what, the
# text cannot show, and the value is a channel out of the data (SHOW reads it back unmasked).
# Denied to everyone, for any setting; SET says the same with constants.
findings contains {
	"effect": "deny",
	"code": "sql-set-config",
	"message": "set_config() changes settings with values computed at run time; use SET",
} if {
	some st in statements
	some change in setting_changes(st)
	change.route == "set_config"
}

findings contains {
	"effect": "deny",
	"code": "sql-pg-settings-write",
	"message": "writing to pg_settings changes settings with values computed at run time; use SET",
} if {
	some st in statements
	some change in setting_changes(st)
	change.route == "pg_settings"
}

# ALTER SYSTEM rewrites the server's configuration (archive_command and the like run shell
# commands): never through the gateway, for any setting.
findings contains {
	"effect": "deny",
	"code": "sql-alter-system",
	"message": "ALTER SYSTEM changes the server's configuration; change it where the server is configured",
} if {
	some st in statements
	some change in setting_changes(st)
	change.route == "alter-system"
}

# search_path decides which schema an unqualified table or function name means: an agent that
# sets it could make "lower(…)" or "orders" resolve to objects of its choosing. Humans keep it
# as an ordinary session SET.
findings contains {
	"effect": "deny",
	"code": "sql-setting-change-by-agent",
	"message": concat("", ["agents may not set or reset ", name]),
} if {
	identity.is_agent
	some st in statements
	some change in setting_changes(st)
	is_string(change.name)
	name := lower(change.name)
	name in rules.agent_denied_settings
}

# --- maintenance (VACUUM, ANALYZE, CLUSTER, REINDEX, CHECKPOINT) ---

findings contains {"effect": "allow", "code": "sql-maintenance-allowed", "message": "maintenance statement by an administrator"} if "maintenance" in classes

# --- statements policy does not know ---

findings contains {
	"effect": "deny",
	"code": "sql-unknown-statement",
	"message": "a statement of a kind the policy does not know",
} if {
	"unknown" in classes
}

# --- guards that deny whoever asks ---

findings contains {
	"effect": "deny",
	"code": concat("", ["sql-", op.kind, "-without-where"]),
	"message": concat("", [upper(op.kind), " without WHERE would touch every row of ", table_label(op)]),
} if {
	some st in statements
	some op in st.operations
	op.kind in {"update", "delete"}
	not op.has_where == true
}

table_label(op) := op.table if {
	is_string(op.table)
} else := "a table"

findings contains {
	"effect": "deny",
	"code": "sql-forbidden-function",
	"message": concat("", ["the function ", fn, " is forbidden"]),
} if {
	some st in statements
	some fn in st.functions
	fn in rules.forbidden_functions
}

findings contains {
	"effect": "deny",
	"code": "sql-copy-program",
	"message": "COPY to or from a server-side program is forbidden",
} if {
	some st in statements
	st.kind == "copy"
	not st.copy.program == false
}

findings contains {
	"effect": "deny",
	"code": "sql-copy-server-file",
	"message": "COPY to or from a file on the database server is forbidden",
} if {
	some st in statements
	st.kind == "copy"
	not st.copy.filename == null
}
