# The single entrypoint: data.portcullis.decision. It gathers the findings of the identity
# checks and of the package for the action's type, and answers with the strictest effect.
package portcullis

import data.portcullis.approvals
import data.portcullis.connect
import data.portcullis.file
import data.portcullis.identity
import data.portcullis.kubernetes
import data.portcullis.masking
import data.portcullis.mcp
import data.portcullis.network
import data.portcullis.shell
import data.portcullis.sql

# Findings and access needs of the package that judges this action type; an action type no
# package judges gets none, and the default deny below answers it.
action_findings := sql.findings if {
	identity.action_type == "sql"
} else := kubernetes.findings if {
	identity.action_type == "kubernetes"
} else := shell.findings if {
	identity.action_type == "shell"
} else := connect.findings if {
	identity.action_type == "connect"
} else := file.findings if {
	identity.action_type == "file"
} else := network.findings if {
	identity.action_type == "network"
} else := mcp.findings if {
	identity.action_type == "mcp"
} else := set()

action_needs := sql.needs if {
	identity.action_type == "sql"
} else := kubernetes.needs if {
	identity.action_type == "kubernetes"
} else := shell.needs if {
	identity.action_type == "shell"
} else := connect.needs if {
	identity.action_type == "connect"
} else := file.needs if {
	identity.action_type == "file"
} else := network.needs if {
	identity.action_type == "network"
} else := mcp.needs if {
	identity.action_type == "mcp"
} else := set()

findings := (identity.findings | action_findings) | identity.access_findings(action_needs)

effects := {f.effect | some f in findings}

effect := "deny" if {
	"deny" in effects
} else := "approval_required" if {
	"approval_required" in effects
} else := "allow" if {
	"allow" in effects
} else := "deny"

reasons := sort(winning) if {
	count(winning) > 0
} else := [{"code": "no-rule-allows", "message": "no rule allows this action"}]

winning := {{"code": f.code, "message": f.message} | some f in findings; f.effect == effect}

# A denied command returns nothing, so it carries no masks.
masks := [] if {
	effect == "deny"
} else := sort(masking.masks)

approval_profiles := {object.get(f, "approval", "default") | some f in findings; f.effect == "approval_required"}

# Whether the principal reads personal data in clear (a capability): the PEP then runs no value
# detectors and no strict masking of relations policy cannot see into (views).
unmasked := identity.has_capability("unmasked-pii")

# Whether `mask` names every sensitive column (see masking.mask_complete): the Postgres PEP then
# masks a view's columns by the base columns they come from instead of redacting them whole.
mask_complete := masking.mask_complete if {
	effect != "deny"
} else := false

# An MCP tools/list answer names the tools the gateway removes from the list (mcp.rego).
obligations := object.union(base_obligations, {"hidden_tools": mcp.hidden_tools}) if {
	identity.action_type == "mcp"
	mcp.method == "tools/list"
} else := base_obligations

base_obligations := {"mask": masks, "record": true, "unmasked": unmasked, "mask_complete": mask_complete}

base_decision := {
	"effect": effect,
	"reasons": reasons,
	"obligations": obligations,
}

# The decision is always defined: if anything above were undefined, the default denies.
default decision := {
	"effect": "deny",
	"reasons": [{"code": "policy-incomplete", "message": "the policy could not reach a decision"}],
	"obligations": {"mask": [], "record": true},
}

# Opt-in decision reuse: an allowed SQL text made of plain DML only may stand, in the same session,
# for later texts that differ from it in literal values alone (pgbench's and most applications'
# statements), so the PEP need not ask again for each key it looks up. It holds because no rule of
# this pack reads a literal value (input.action.sql, a statement's text): a rule that does must
# switch reuse off (sql_rules.decision_reuse_seconds: 0). The PDP checks the kinds once more and
# caps the time; every statement run under a reused decision is still on the session record.
reuse_seconds := seconds if {
	effect == "allow"
	identity.action_type == "sql"
	seconds := object.get(data.portcullis.sql_rules, "decision_reuse_seconds", 0)
	seconds > 0
	literal_insensitive_sql
}

# A Kubernetes read may stand for the very same request again (the PEP keys it on the exact
# method, path and query): kubectl, informers and dashboards re-read the same objects. Nothing a
# rule of this pack reads differs between two identical requests; the PDP admits only bodiless
# GETs of get/list (never watch, proxy, a write or an upgrade) and caps the time.
reuse_seconds := seconds if {
	effect == "allow"
	identity.action_type == "kubernetes"
	kubernetes.request_class == "read"
	seconds := object.get(data.portcullis.kubernetes_rules, "decision_reuse_seconds", 0)
	seconds > 0
}

# An MCP read may stand for the very same request again in the same session (the gateway keys it
# on the whole action: tool, arguments, annotations, URI): an agent re-reading a file, a resource,
# a lookup. Only reads (mcp.repeatable_read: tools policy takes as read-only and judges by name and
# paths, and resources/read); the PDP checks again and caps the time, and every call is still on
# the session record.
reuse_seconds := seconds if {
	effect == "allow"
	identity.action_type == "mcp"
	mcp.repeatable_read
	seconds := object.get(data.portcullis.mcp_rules, "decision_reuse_seconds", 0)
	seconds > 0
}

reuse_kinds := {"select", "insert", "update", "delete", "merge", "cursor"}

literal_insensitive_sql if {
	count(sql.statements) > 0
	every st in sql.statements {
		st.kind in reuse_kinds
	}
}

decision := object.union(base_decision, {"approval": approvals.approval(approval_profiles)}) if {
	effect == "approval_required"
} else := object.union(base_decision, {"reuse_seconds": reuse_seconds}) if {
	effect == "allow"
	reuse_seconds
} else := base_decision if {
	effect != "approval_required"
}
