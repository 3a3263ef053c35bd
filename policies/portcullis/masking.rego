# Mask obligations: every sensitive column a SQL statement can return, with the strategy data
# assigns it (for Kubernetes: the Secret values of portcullis.kubernetes). Over-masking is
# harmless (the PEP masks only columns that come back); missing a column leaks it, so every
# doubtful case masks.
package portcullis.masking

import data.portcullis.identity
import data.portcullis.kubernetes
import data.portcullis.mcp
import data.portcullis.sql

sensitive := data.portcullis.sensitive_columns

# Kubernetes masks Secret values (json-path) for whoever is not the cluster's administrator:
# a credential is not personal data, so `unmasked-pii` does not lift them.
masks := kubernetes.masks if {
	identity.action_type == "kubernetes"
} else := mcp.masks if {
	# MCP: JSON paths data names (for everyone) and detectors for who may not read personal data in clear.
	identity.action_type == "mcp"
} else := set() if {
	identity.has_capability("unmasked-pii")
} else := set() if {
	identity.action_type != "sql"
} else := statement_masks

statement_masks contains mask(table, column) if {
	some st in sql.statements
	some ref in st.columns
	table := lower_string(ref.table)
	column := lower_string(ref.column)
	sensitive[table][column]
}

# An unqualified column (table null) may belong to any table the statement reads.
statement_masks contains mask(table, column) if {
	some st in sql.statements
	some ref in st.columns
	ref.table == null
	column := lower_string(ref.column)
	some t in st.tables
	table := lower_string(t)
	sensitive[table][column]
}

statement_masks contains mask(table, column) if {
	some st in sql.statements
	some t in st.star_tables
	table := lower_string(t)
	some column, _ in sensitive[table]
}

# Every column a returned column is computed from (docs/policy-input.md, `outputs`): expressions,
# casts, subqueries and CTE columns, set operations, RETURNING. The PEP masks expression columns
# (which the server cannot tie to a table) by these, so each must carry its source's obligation.
statement_masks contains mask(table, column) if {
	some st in sql.statements
	some output in st.outputs
	some ref in output.derived_from
	not ref.column == "*"
	table := lower_string(ref.table)
	column := lower_string(ref.column)
	sensitive[table][column]
}

# A whole row (`row_to_json(u)`, `u.*`, a column renamed by a FROM alias list) carries every column.
statement_masks contains mask(table, column) if {
	some st in sql.statements
	some output in st.outputs
	some ref in output.derived_from
	ref.column == "*"
	table := lower_string(ref.table)
	some column, _ in sensitive[table]
}

# COPY table TO STDOUT without a column list sends every column of the table.
statement_masks contains mask(table, column) if {
	some st in sql.statements
	st.kind == "copy"
	st.copy.is_from == false
	count(st.columns) == 0
	some t in st.tables
	table := lower_string(t)
	some column, _ in sensitive[table]
}

# EXECUTE's prepared body and a procedure's OUT parameters are not visible to policy: mask every
# sensitive column there is.
statement_masks contains mask(table, column) if {
	some st in sql.statements
	st.kind in {"execute", "call"}
	some table, columns in sensitive
	some column, _ in columns
}

# FETCH returns the rows of a cursor DECLAREd earlier, which this statement does not show: every
# sensitive column there is. The PEP masks by the DECLARE's provenance when it saw that DECLARE,
# and strictly otherwise (MOVE and CLOSE return no rows, so their obligations cost nothing).
statement_masks contains mask(table, column) if {
	some st in sql.statements
	st.kind == "cursor"
	some table, columns in sensitive
	some column, _ in columns
}

# A relation policy does not know to be a table may be a view, whose columns carry the view's
# name and so match no entry of sensitive_columns. The PEP traces a view's columns to the base
# columns they are computed from and masks them by these obligations, which it can only do when
# they name every sensitive column there is (`mask_complete`). Known tables: the keys of
# sensitive_columns and sql_rules.base_tables. CTE names count as unknown (over-masking is harmless).
statement_masks contains mask(table, column) if {
	some st in sql.statements
	some t in st.tables
	not known_table(lower_string(t))
	some table, columns in sensitive
	some column, _ in columns
}

known_table(name) if sensitive[name]

known_table(name) if name in {lower_string(t) | some t in object.get(data.portcullis.sql_rules, "base_tables", [])}

# Every sensitive column there is has its obligation: a PEP may then mask a column it traces to
# base columns (a view's) by the obligations alone. Otherwise it must redact such a column whole.
default mask_complete := false

mask_complete if {
	every table, columns in sensitive {
		every column, _ in columns {
			mask(table, column) in masks
		}
	}
}

# A column data forgot to give a strategy is redacted outright. `computed_strategy` (optional)
# is for values computed from the column rather than the column as is (`reverse(email)`): the
# PEP applies it there (hash, say, to keep such values joinable), never weaker than `strategy`
# and never one that keeps part of the value; without it they are redacted.
mask(table, column) := object.union(
	{"table": table, "column": column, "strategy": object.get(sensitive[table][column], "strategy", "redact")},
	computed_member(sensitive[table][column]),
)

computed_member(entry) := {"computed_strategy": entry.computed_strategy} if is_string(entry.computed_strategy) else := {}

lower_string(s) := lower(s) if is_string(s)
