# Port forwarding through SSH hosts, on the address the PDP read.
package portcullis.network_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

forward(direction, host, kind, value, scope, port) := {
	"type": "network", "protocol": "ssh", "direction": direction, "transport": "tcp",
	"host": host, "port": port, "address": {"kind": kind, "value": value, "scope": scope}, "parse_error": null,
}

loopback := forward("outbound", "127.1", "ipv4", "127.0.0.1", "loopback", 5432)

on_web(kind, roles, action) := d if {
	d := decision with input as fx.request(kind, roles, "web-1", action)
}

on_stage(kind, roles, action) := d if {
	d := decision with input as fx.request(kind, roles, "web-stage", action)
		with data.portcullis.resources as fx.with_staging_resources
}

test_agents_never_forward if {
	every action in [loopback, forward("inbound", "", "any", "", "any", 0)] {
		d := on_stage("agent", ["reader", "writer"], action)
		d.effect == "deny"
		"network-forwarding-by-agent" in fx.codes(d)
	}
}

test_a_human_reader_gets_no_tunnel_even_to_the_hosts_loopback if {
	d := on_web("human", ["reader"], loopback)
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
}

test_a_human_writer_reaches_the_hosts_loopback if {
	d := on_web("human", ["reader", "writer"], loopback)
	d.effect == "allow"
	fx.codes(d) == {"network-loopback-forward"}
}

test_other_destinations_need_write_and_approval_in_production if {
	action := forward("outbound", "db.internal", "name", "db.internal", "name", 5432)
	d := on_web("human", ["reader"], action)
	d.effect == "deny"
	"insufficient-role" in fx.codes(d)
	e := on_web("human", ["reader", "writer"], action)
	e.effect == "approval_required"
	fx.codes(e) == {"network-forward-requires-approval"}
	f := on_stage("human", ["reader", "writer"], action)
	f.effect == "allow"
}

test_a_listener_on_the_host_needs_write_and_approval if {
	action := forward("inbound", "localhost", "name", "localhost", "loopback", 8080)
	d := on_web("human", ["reader", "writer"], action)
	d.effect == "approval_required"
	e := on_web("human", ["reader"], action)
	e.effect == "deny"
}

test_metadata_multicast_reserved_and_unspecified_addresses_are_refused if {
	every action in [
		forward("outbound", "169.254.169.254", "ipv4", "169.254.169.254", "link-local", 80),
		forward("outbound", "0xa9fea9fe", "ipv4", "169.254.169.254", "link-local", 80),
		forward("outbound", "224.0.0.1", "ipv4", "224.0.0.1", "multicast", 5353),
		forward("outbound", "0.0.0.0", "ipv4", "0.0.0.0", "unspecified", 22),
		forward("outbound", "255.255.255.255", "ipv4", "255.255.255.255", "reserved", 9),
	] {
		d := on_stage("human", ["reader", "writer"], action)
		d.effect == "deny"
		"network-destination-refused" in fx.codes(d)
	}
}

test_unix_sockets_are_refused if {
	action := {"type": "network", "direction": "outbound", "transport": "unix", "socket_path": "/run/docker.sock", "address": null, "parse_error": null}
	d := on_stage("human", ["reader", "writer"], action)
	d.effect == "deny"
	"network-unix-socket" in fx.codes(d)
}

test_an_unreadable_request_is_denied if {
	action := object.union(loopback, {"address": null, "parse_error": "host is not a DNS name"})
	d := on_stage("human", ["reader", "writer"], action)
	d.effect == "deny"
	"network-unreadable" in fx.codes(d)
}

test_network_actions_are_not_accepted_on_a_database if {
	d := decision with input as fx.request("human", ["reader"], "orders-db", loopback)
	d.effect == "deny"
	"unsupported-action" in fx.codes(d)
}
