# Input builders shaped exactly as docs/policy-input.md describes, so tests read as requests.
package portcullis.fixtures

# What each PEP claims about its resource; staging-cluster and web-stage are added to data only
# by the tests that need a staging Kubernetes cluster or SSH host (see with_staging_resources).
claims := {
	"orders-db": {"type": "postgres", "environment": "production"},
	"analytics-db": {"type": "postgres", "environment": "staging"},
	"prod-cluster": {"type": "kubernetes", "environment": "production"},
	"web-1": {"type": "ssh", "environment": "production"},
	"staging-cluster": {"type": "kubernetes", "environment": "staging"},
	"web-stage": {"type": "ssh", "environment": "staging"},
}

with_staging_resources := object.union(data.portcullis.resources, {
	"staging-cluster": {"type": "kubernetes", "environment": "staging"},
	"web-stage": {"type": "ssh", "environment": "staging"},
})

principal(kind, roles) := {
	"authenticated": true,
	"error": null,
	"sub": concat("-", [kind, "7"]),
	"iss": "https://issuer.example.com",
	"kind": kind,
	"roles": roles,
}

request(kind, roles, resource_name, action) := {
	"principal": principal(kind, roles),
	"pep": {"sub": concat("-", ["pep", resource_name]), "roles": ["pep"]},
	"resource": {
		"type": claims[resource_name].type,
		"name": resource_name,
		"environment": claims[resource_name].environment,
		"labels": {},
	},
	"action": action,
	"session": {"id": "sess-0001", "client_addr": "10.0.0.7:51234"},
}

# --- SQL ---

sql(kind, roles, resource_name, statements) := request(kind, roles, resource_name, {
	"type": "sql",
	"sql": concat("; ", [st.text | some st in statements]),
	"parse_error": null,
	"statements": statements,
})

stmt(fields) := object.union(
	{
		"kind": "select",
		"node": "SelectStmt",
		"text": "SELECT 1",
		"operations": [{"kind": "select", "table": null, "schema": null}],
		"tables": [],
		"columns": [],
		"star_tables": [],
		"functions": [],
		"calls": [],
		"writes": false,
		"locking": false,
		"explain_analyze": false,
		"copy": null,
		"set": null,
		"settings": [],
	},
	fields,
)

select_order_totals := stmt({
	"text": "SELECT id, total FROM orders WHERE id = 7",
	"operations": [{"kind": "select", "table": "orders", "schema": null}],
	"tables": ["orders"],
	"columns": [{"table": "orders", "column": "id"}, {"table": "orders", "column": "total"}],
})

update_order := stmt({
	"kind": "update",
	"node": "UpdateStmt",
	"text": "UPDATE orders SET status = 'shipped' WHERE id = 7",
	"operations": [{"kind": "update", "table": "orders", "schema": null, "has_where": true}],
	"tables": ["orders"],
	"columns": [{"table": "orders", "column": "status"}, {"table": "orders", "column": "id"}],
	"writes": true,
})

create_index := stmt({
	"kind": "ddl",
	"node": "IndexStmt",
	"text": "CREATE INDEX orders_status_idx ON orders (status)",
	"operations": [],
	"tables": ["orders"],
	"columns": [{"table": "orders", "column": "status"}],
})

# --- Kubernetes ---

kube(kind, roles, resource_name, method, path, req) := kube_with(kind, roles, resource_name, method, path, req, {})

# A Kubernetes request with the PDP's facts: a write stores a plain object (no pod spec) unless
# `facts` says otherwise (`write`, `exec`, `attach`, `port_forward`, `canonical_path`).
kube_with(kind, roles, resource_name, method, path, req, facts) := request(kind, roles, resource_name, object.union(
	{
		"type": "kubernetes",
		"method": method,
		"path": path,
		"request": req,
		"canonical_path": path,
		"write": default_write(req),
		"exec": null,
		"attach": null,
		"port_forward": null,
	},
	facts,
))

default_write(req) := write_of([]) if {
	req.verb in {"create", "update", "patch"}
	not req.subresource in {"exec", "attach", "portforward", "proxy"}
} else := null

write_of(pod_specs) := {"source": "object", "problem": null, "kind": null, "api_version": null, "pod_specs": pod_specs}

pod_spec(fields) := object.union(
	{
		"at": "spec",
		"service_account": null,
		"host_network": false,
		"host_pid": false,
		"host_ipc": false,
		"host_path_volumes": [],
		"containers": [container({})],
	},
	fields,
)

container(fields) := object.union(
	{
		"name": "web",
		"kind": "container",
		"image": "nginx:1.27",
		"privileged": false,
		"allow_privilege_escalation": null,
		"added_capabilities": [],
		"run_as_user": null,
		"host_ports": [],
		"unconfined": [],
		"proc_mount_unmasked": false,
	},
	fields,
)

stream(fields) := object.union(
	{"container": null, "stdin": false, "stdout": true, "stderr": true, "tty": false, "command": [], "shell": null},
	fields,
)

resource_request(verb, resource, subresource, namespace, name) := {
	"is_resource_request": true,
	"verb": verb,
	"api_prefix": "api",
	"api_group": "",
	"api_version": "v1",
	"namespace": namespace,
	"resource": resource,
	"subresource": subresource,
	"name": name,
	"parts": [p | some p in [resource, name, subresource]; p != ""],
}

non_resource_request(verb) := {
	"is_resource_request": false,
	"verb": verb,
	"api_prefix": "",
	"api_group": "",
	"api_version": "",
	"namespace": "",
	"resource": "",
	"subresource": "",
	"name": "",
	"parts": [],
}

# --- shell ---

shell(kind, roles, resource_name, text, commands) := request(kind, roles, resource_name, {
	"type": "shell",
	"command": text,
	"parse_error": null,
	"commands": commands,
})

cmd(name, args) := {
	"name": name,
	"path": name,
	"args": args,
	"dynamic_name": false,
	"pipeline": 0,
	"pipeline_position": 0,
	"pipeline_length": 1,
	"via": null,
	"redirects": [],
}

# The commands of one pipeline, in order.
pipeline(commands) := [object.union(c, {"pipeline": 0, "pipeline_position": i, "pipeline_length": count(commands)}) |
	some i, c in commands
]

# --- reading decisions ---

codes(decision) := {r.code | some r in decision.reasons}
