# SQL on PostgreSQL resources, judged statement by statement from the PDP's parse.
# A multi-statement text gets the findings of every statement, so its strictest one decides.
package portcullis.sql

import data.portcullis.fields
import data.portcullis.identity

rules := data.portcullis.sql_rules

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
} else := "read" if {
	st.copy.is_from == false
} else := "unknown"

# Plain EXPLAIN only plans; EXPLAIN ANALYZE runs its target.
explain_class(st) := "write" if {
	st.explain_analyze == true
	st.writes == true
} else := "read"

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
	c in {"write", "opaque", "procedure"}
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

findings contains {
	"effect": "approval_required",
	"code": "sql-code-requires-approval",
	"message": "DO blocks and CALL run code that needs approval here",
	"approval": "default",
} if {
	not identity.is_agent
	some c in classes
	c in {"code-block", "procedure"}
	identity.changes_need_approval
}

findings contains {"effect": "allow", "code": "sql-code-allowed", "message": "DO block or CALL by a human"} if {
	not identity.is_agent
	some c in classes
	c in {"code-block", "procedure"}
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
# the server reads the text of every later statement, so the PDP's parser (which assumes the
# defaults) would read it differently: denied to everyone, SET and RESET alike. RESET ALL and
# DISCARD ALL (set.name "all" / "discard") only return every setting to the value the session
# started with, which is what the parser assumes, so they stay ordinary session SETs (reads).
findings contains {
	"effect": "deny",
	"code": "sql-parser-sensitive-setting",
	"message": concat("", ["changing ", name, " would make the server read later SQL differently from the policy's parser"]),
} if {
	some st in statements
	name := lower(set_name(st))
	name in rules.parser_sensitive_settings
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
	name := lower(set_name(st))
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
