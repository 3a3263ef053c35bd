# Opening a session: the login step every PEP asks about before relaying any command.
package portcullis.connect_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

connect_action := {"type": "connect", "protocol": "postgres", "database": "orders", "user": "reporting", "application_name": "psql"}

connect_as(user) := object.union(connect_action, {"user": user})

test_reader_may_open_a_session if {
	d := decision with input as fx.request("agent", ["reader"], "orders-db", connect_action)
	d.effect == "allow"
	fx.codes(d) == {"session-open"}
	d.obligations.mask == []
}

test_no_role_cannot_open_a_session if {
	d := decision with input as fx.request("agent", [], "orders-db", connect_action)
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_unauthenticated_cannot_open_a_session if {
	req := object.union(fx.request("agent", ["reader"], "orders-db", connect_action), {"principal": {"authenticated": false, "error": "token-expired", "sub": null, "iss": null, "kind": "agent", "roles": []}})
	d := decision with input as req
	d.effect == "deny"
	"unauthenticated" in fx.codes(d)
}

test_unknown_resource_cannot_be_opened if {
	req := object.union(fx.request("agent", ["reader"], "orders-db", connect_action), {"resource": {"type": "postgres", "name": "nowhere-db", "environment": "production", "labels": {}}})
	d := decision with input as req
	d.effect == "deny"
	"unknown-resource" in fx.codes(d)
}

test_login_as_the_principals_own_subject if {
	d := decision with input as fx.request("agent", ["reader"], "orders-db", connect_as("agent-7"))
	d.effect == "allow"
}

test_login_as_a_database_role_the_principals_role_maps_to if {
	d := decision with input as fx.request("agent", ["writer"], "orders-db", connect_as("app"))
	d.effect == "allow"
}

test_login_as_a_name_that_names_nobody_is_refused if {
	some user in ["asldkfjsadlfkj", "postgres", "agent-8", "AGENT-7", "app ", ""]
	user != ""
	d := decision with input as fx.request("agent", ["reader", "writer"], "orders-db", connect_as(user))
	d.effect == "deny"
	"login-name-unknown" in fx.codes(d)
}

test_login_as_a_database_role_of_another_role_is_refused if {
	d := decision with input as fx.request("agent", ["reader"], "orders-db", connect_as("app"))
	d.effect == "deny"
	"login-name-unknown" in fx.codes(d)
}

test_login_names_are_per_protocol if {
	req := fx.request("agent", ["writer"], "orders-db", object.union(connect_action, {"protocol": "ssh", "user": "app"}))
	d := decision with input as req
	"login-name-unknown" in fx.codes(d)
}

test_login_name_mapping_comes_from_data if {
	d := decision with input as fx.request("agent", ["reader"], "orders-db", connect_as("ops"))
		with data.portcullis.login_names as {"postgres": {"reader": ["ops"]}}
	d.effect == "allow"
}

test_unauthenticated_login_is_refused_for_the_token_not_the_name if {
	req := object.union(fx.request("agent", ["reader"], "orders-db", connect_as("asldkfjsadlfkj")), {"principal": {"authenticated": false, "error": "token-expired", "sub": null, "iss": null, "kind": "agent", "roles": []}})
	d := decision with input as req
	"unauthenticated" in fx.codes(d)
	not "login-name-unknown" in fx.codes(d)
}

# --- SSH session requests ---

ssh(fields) := object.union({"type": "connect", "protocol": "ssh", "user": "deploy"}, fields)

on_web(kind, roles, action) := d if {
	d := decision with input as fx.request(kind, roles, "web-1", action)
}

on_stage(kind, roles, action) := d if {
	d := decision with input as fx.request(kind, roles, "web-stage", action)
		with data.portcullis.resources as fx.with_staging_resources
}

test_ssh_login_and_exec_for_a_reader if {
	every action in [ssh({}), ssh({"channel": "exec"}), ssh({"channel": "subsystem", "subsystem": "sftp"})] {
		d := on_web("agent", ["reader"], action)
		d.effect == "allow"
		fx.codes(d) == {"session-open"}
	}
}

test_ssh_login_name_must_be_mapped if {
	d := on_web("agent", ["reader"], ssh({"user": "root"}))
	d.effect == "deny"
	"login-name-unknown" in fx.codes(d)
}

test_agents_get_no_interactive_shell_or_terminal_in_production if {
	every action in [
		ssh({"channel": "shell"}),
		ssh({"channel": "shell", "pty": true}),
		ssh({"channel": "exec", "pty": true}),
		ssh({"pty": true}),
	] {
		d := on_web("agent", ["reader", "writer"], action)
		d.effect == "deny"
		"ssh-interactive-session-by-agent" in fx.codes(d)
	}
}

test_humans_get_an_interactive_shell_recorded if {
	d := on_web("human", ["reader", "writer"], ssh({"channel": "shell", "pty": true}))
	d.effect == "allow"
	fx.codes(d) == {"session-open", "ssh-interactive-session-recorded"}
	d.obligations.record == true
}

test_an_interactive_shell_needs_write_access if {
	d := on_web("human", ["reader"], ssh({"channel": "shell", "pty": true}))
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_a_terminal_for_exec_needs_write_access if {
	# less, man, systemctl --help … open a pager whose shell escape a reader would reach.
	every action in [ssh({"channel": "exec", "pty": true}), ssh({"pty": true})] {
		d := on_web("human", ["reader"], action)
		d.effect == "deny"
		"insufficient-role" in fx.codes(d)
	}
	d := on_web("human", ["reader", "writer"], ssh({"channel": "exec", "pty": true}))
	d.effect == "allow"
	"ssh-interactive-session-recorded" in fx.codes(d)
}

test_agents_may_have_a_shell_where_changes_need_no_approval if {
	d := on_stage("agent", ["reader", "writer"], ssh({"channel": "shell", "pty": true}))
	d.effect == "allow"
}

test_unknown_subsystems_are_refused if {
	every subsystem in ["netconf", "", "SFTP"] {
		d := on_web("human", ["reader", "writer"], ssh({"channel": "subsystem", "subsystem": subsystem}))
		d.effect == "deny"
		"ssh-subsystem-refused" in fx.codes(d)
	}
}

test_x11_and_agent_forwarding_are_refused if {
	every channel in ["x11", "agent-forwarding"] {
		d := on_stage("human", ["reader", "writer"], ssh({"channel": channel}))
		d.effect == "deny"
		"ssh-forwarding-refused" in fx.codes(d)
	}
}
