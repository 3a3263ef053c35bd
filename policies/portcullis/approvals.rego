# The approval a held command waits for, merged from every approval_required finding: the
# strictest quorum and the shortest time to live win.
package portcullis.approvals

rules := data.portcullis.approval_rules

rule(name) := rules[name] if {
	is_object(rules[name])
} else := rules["default"]

# profiles: the names of the approval rules the findings asked for ("default" when unnamed).
base(profiles) := {
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

# Opt-in: a rule with window_seconds lets one approval cover this principal's held commands on
# the resource for that long. Only when every rule asking allows a window (the shortest wins);
# a single per-command rule keeps the approval to the one command.
window_seconds(profiles) := min({rule(name).window_seconds | some name in profiles}) if {
	every name in profiles {
		is_number(rule(name).window_seconds)
		rule(name).window_seconds > 0
	}
}

approval(profiles) := object.union(base(profiles), {"window_seconds": window_seconds(profiles)}) if {
	window_seconds(profiles)
} else := base(profiles)
