# Merging the approval rules that several findings asked for.
package portcullis.approvals_test

import data.portcullis.approvals

rules := {
	"default": {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900},
	"strict": {"quorum": 2, "approver_roles": ["approver", "security"], "ttl_seconds": 1800},
	"quick": {"quorum": 1, "approver_roles": ["oncall"], "ttl_seconds": 300},
}

test_single_profile_is_returned_as_is if {
	a := approvals.approval({"strict"}) with data.portcullis.approval_rules as rules
	a == {"quorum": 2, "approver_roles": ["approver", "security"], "ttl_seconds": 1800}
}

test_highest_quorum_wins_with_its_roles_and_shortest_ttl if {
	a := approvals.approval({"strict", "quick"}) with data.portcullis.approval_rules as rules
	a == {"quorum": 2, "approver_roles": ["approver", "security"], "ttl_seconds": 300}
}

test_profiles_with_equal_quorum_pool_their_approver_roles if {
	a := approvals.approval({"default", "quick"}) with data.portcullis.approval_rules as rules
	a == {"quorum": 1, "approver_roles": ["approver", "oncall"], "ttl_seconds": 300}
}

test_unknown_profile_falls_back_to_default if {
	a := approvals.approval({"no-such-rule"}) with data.portcullis.approval_rules as rules
	a == {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900}
}

test_starter_data_holds_the_default_and_privileged_sql_rules if {
	approvals.approval({"default"}) == {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900}
	approvals.approval({"privileged-sql"}) == {"quorum": 2, "approver_roles": ["approver"], "ttl_seconds": 900}
}

# --- the opt-in time-boxed window ---

window_rules := {
	"default": {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900},
	"maintenance": {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 600, "window_seconds": 3600},
	"short-maintenance": {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 600, "window_seconds": 600},
}

test_a_rule_with_a_window_grants_one if {
	a := approvals.approval({"maintenance"}) with data.portcullis.approval_rules as window_rules
	a.window_seconds == 3600
}

test_the_shortest_window_wins if {
	a := approvals.approval({"maintenance", "short-maintenance"}) with data.portcullis.approval_rules as window_rules
	a.window_seconds == 600
}

test_one_per_command_rule_means_no_window if {
	a := approvals.approval({"maintenance", "default"}) with data.portcullis.approval_rules as window_rules
	not a.window_seconds
}

test_the_starter_rules_grant_no_window if {
	a := approvals.approval({"default"})
	not a.window_seconds
}

# --- who may vote: humans unless a rule names other kinds ---

kind_rules := {
	"default": {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900},
	"bots-too": {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900, "approver_kinds": ["agent", "human"]},
	"bots-only": {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900, "approver_kinds": ["agent"]},
}

test_no_rule_naming_kinds_leaves_the_default_of_humans_to_the_pdp if {
	a := approvals.approval({"default"}) with data.portcullis.approval_rules as kind_rules
	not a.approver_kinds
}

test_a_rule_naming_kinds_spells_them_out if {
	a := approvals.approval({"bots-too"}) with data.portcullis.approval_rules as kind_rules
	a.approver_kinds == ["agent", "human"]
}

test_a_kind_must_be_allowed_by_every_rule_asking if {
	a := approvals.approval({"bots-too", "default"}) with data.portcullis.approval_rules as kind_rules
	a.approver_kinds == ["human"]
	b := approvals.approval({"bots-only", "default"}) with data.portcullis.approval_rules as kind_rules
	b.approver_kinds == []
}

test_the_starter_rules_let_humans_alone_vote if {
	not approvals.approval({"default"}).approver_kinds
	not approvals.approval({"privileged-sql"}).approver_kinds
}
