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

# Who may vote: only humans unless a rule names other kinds (approver_kinds, e.g. ["human",
# "agent"]). When several rules ask, a kind must be allowed by every one of them.
kinds(name) := rule(name).approver_kinds if is_array(rule(name).approver_kinds) else := ["human"]

names_kinds(profiles) if {
	some name in profiles
	is_array(rule(name).approver_kinds)
}

approver_kinds(profiles) := sort({kind |
	some name in profiles
	some kind in kinds(name)
	every other in profiles {
		kind in kinds(other)
	}
})

with_window(profiles) := object.union(base(profiles), {"window_seconds": window_seconds(profiles)}) if {
	window_seconds(profiles)
} else := base(profiles)

# approver_kinds is only spelled out when a rule names kinds; absent, the PDP lets humans alone vote.
approval(profiles) := object.union(with_window(profiles), {"approver_kinds": approver_kinds(profiles)}) if {
	names_kinds(profiles)
} else := with_window(profiles)
