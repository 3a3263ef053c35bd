# The approval a held command waits for, merged from every approval_required finding: the
# strictest quorum and the shortest time to live win.
package portcullis.approvals

rules := data.portcullis.approval_rules

rule(name) := rules[name] if {
	is_object(rules[name])
} else := rules["default"]

# profiles: the names of the approval rules the findings asked for ("default" when unnamed).
approval(profiles) := {
	"quorum": quorum,
	"approver_roles": sort({role |
		some name in profiles
		rule(name).quorum == quorum
		some role in rule(name).approver_roles
	}),
	"ttl_seconds": min({rule(name).ttl_seconds | some name in profiles}),
} if {
	quorum := max({rule(name).quorum | some name in profiles})
}
