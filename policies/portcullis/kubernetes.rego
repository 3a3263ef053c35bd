# Kubernetes API requests, judged on the kube-apiserver RequestInfo the PDP derived and on what
# the request writes or runs (docs/policy-input.md): the pod specs a write will store, an exec's
# command, a port-forward's ports. Secret values come back masked (`masks`) for non-admins.
package portcullis.kubernetes

import data.portcullis.fields
import data.portcullis.identity

rules := data.portcullis.kubernetes_rules

action := a if {
	a := input.action
	is_object(a)
} else := {}

request := r if {
	r := action.request
	is_object(r)
} else := {}

verb := fields.text(request, "verb")

resource := fields.text(request, "resource")

subresource := fields.text(request, "subresource")

namespace := fields.text(request, "namespace")

name := fields.text(request, "name")

canonical_path := fields.text(action, "canonical_path")

resource_label := concat("/", [resource, subresource]) if {
	subresource != ""
} else := resource

# Administrators of the cluster: a role granting `admin` on this resource (starter: kube-admin).
is_admin if identity.has_access("admin")

# One class per request; the chain ends in "unknown" so nothing goes unjudged.
is_resource_request := v if {
	v := fields.field(request, "is_resource_request")
	is_boolean(v)
} else := null

request_class := "unknown" if {
	is_resource_request == null
} else := non_resource_class if {
	is_resource_request == false
} else := "interactive" if {
	subresource in rules.interactive_subresources
} else := "interactive" if {
	verb in rules.interactive_verbs
} else := "read" if {
	is_self_review
} else := "read" if {
	verb in rules.read_verbs
} else := "change" if {
	verb in rules.change_verbs
} else := "unknown"

# `kubectl auth can-i` and `auth whoami` create a review of the caller's own access: a question
# the API server answers and stores nothing of, so a read.
is_self_review if {
	verb == "create"
	subresource == ""
	resource in object.get(rules.self_review_resources, fields.text(request, "api_group"), [])
}

# Non-resource paths: discovery and OpenAPI (every client reads them first), health, and the rest
# (/logs, /debug/pprof, /metrics, /openid/…), which are the cluster administrators'.
non_resource_class := "non-resource-change" if {
	not verb in rules.non_resource_read_verbs
} else := "unknown" if {
	canonical_path == ""
} else := "discovery" if {
	is_discovery_path
} else := "health" if {
	is_health_path
} else := "non-resource-read"

# RequestInfo leaves only the discovery paths under /api and /apis non-resource: /api, /api/v1,
# /apis, /apis/apps, /apis/apps/v1 (anything longer names resources).
is_discovery_path if split(canonical_path, "/")[1] in {"api", "apis"}

is_discovery_path if canonical_path in rules.discovery_paths

is_discovery_path if {
	some prefix in rules.discovery_path_prefixes
	startswith(canonical_path, prefix)
}

is_health_path if canonical_path in rules.health_paths

is_health_path if {
	some prefix in rules.health_path_prefixes
	startswith(canonical_path, prefix)
}

needs contains "read" if request_class in {"read", "health"}

needs contains "write" if request_class in {"change", "interactive"}

needs contains "admin" if request_class == "non-resource-read"

findings contains {
	"effect": "allow",
	"code": "kubernetes-discovery-allowed",
	"message": "API discovery, OpenAPI and version are open to every verified principal",
} if {
	request_class == "discovery"
}

findings contains {
	"effect": "allow",
	"code": "kubernetes-read-allowed",
	"message": "read-only Kubernetes request",
} if {
	request_class in {"read", "health"}
}

findings contains {
	"effect": "allow",
	"code": "kubernetes-non-resource-read-by-admin",
	"message": concat("", ["GET ", canonical_path, " is for cluster administrators"]),
} if {
	request_class == "non-resource-read"
}

findings contains {
	"effect": "approval_required",
	"code": "kubernetes-change-requires-approval",
	"message": concat("", [verb, " of ", resource_label, object_label, " needs approval here"]),
	"approval": "default",
} if {
	request_class == "change"
	identity.changes_need_approval
}

findings contains {
	"effect": "allow",
	"code": "kubernetes-change-allowed",
	"message": concat("", [verb, " of ", resource_label, object_label]),
} if {
	request_class == "change"
	not identity.changes_need_approval
}

object_label := concat("", [" ", name]) if name != "" else := ""

# exec, attach, port-forward and proxy open a live channel into a workload: always approved,
# and the approver is told what it runs.
findings contains {
	"effect": "approval_required",
	"code": "kubernetes-interactive-access-requires-approval",
	"message": concat("", [resource_label, object_label, interactive_detail, " opens an interactive channel and needs approval"]),
	"approval": "default",
} if {
	request_class == "interactive"
}

interactive_detail := concat("", [" running ", json.marshal(action.exec.command)]) if {
	count(action.exec.command) > 0
} else := concat("", [" to ports ", concat(",", [format_int(p, 10) | some p in action.port_forward.ports])]) if {
	count(action.port_forward.ports) > 0
} else := ""

findings contains {
	"effect": "deny",
	"code": "kubernetes-non-resource-change",
	"message": "only reads of non-resource API paths are allowed",
} if {
	request_class == "non-resource-change"
}

findings contains {
	"effect": "deny",
	"code": "kubernetes-unknown-request",
	"message": "a Kubernetes request the policy does not recognise",
} if {
	request_class == "unknown"
}

findings contains {
	"effect": "deny",
	"code": "kubernetes-namespace-delete-by-agent",
	"message": concat("", ["agents may not delete ", resource]),
} if {
	identity.is_agent
	is_resource_request == true
	verb in {"delete", "deletecollection"}
	resource in rules.agent_denied_delete_resources
}

findings contains {
	"effect": "deny",
	"code": "kubernetes-deletecollection-by-agent",
	"message": concat("", ["agents may not ", verb, " ", resource_label]),
} if {
	identity.is_agent
	is_resource_request == true
	verb in rules.agent_denied_verbs
}

# System namespaces are the cluster's own: agents touch nothing in them, nor the namespace itself.
findings contains {
	"effect": "deny",
	"code": "kubernetes-protected-namespace-by-agent",
	"message": concat("", ["agents may not touch the ", protected, " namespace"]),
} if {
	identity.is_agent
	is_resource_request == true
	some protected in protected_namespaces_named
}

protected_namespaces_named contains namespace if namespace in rules.agent_protected_namespaces

protected_namespaces_named contains name if {
	resource == "namespaces"
	name in rules.agent_protected_namespaces
}

# What changes how the cluster itself decides or who it trusts is the administrators' alone:
# admission webhooks and policies (a mutating one rewrites objects after policy judged them),
# aggregated APIs (they take over a whole API group), CRDs, cluster-wide RBAC, nodes, and what
# mints a credential usable around this PEP (service account tokens, signed certificates).
findings contains {
	"effect": "deny",
	"code": "kubernetes-admin-only-change",
	"message": concat("", [verb, " of ", group_label, resource_label, " is for cluster administrators"]),
} if {
	is_resource_request == true
	verb in rules.change_verbs
	not is_admin
	admin_only_resource
}

# A listed resource covers its subresources too (certificatesigningrequests/approval); a listed
# subresource only itself (serviceaccounts/token).
admin_only_resource if resource_label in object.get(rules.admin_only_changes, fields.text(request, "api_group"), [])

admin_only_resource if resource in object.get(rules.admin_only_changes, fields.text(request, "api_group"), [])

group_label := concat("", [g, "/"]) if {
	g := fields.text(request, "api_group")
	g != ""
} else := ""

# --- Writes: judged on the object as it will be stored -------------------------------------------

write := w if {
	w := action.write
	is_object(w)
} else := null

is_write if {
	is_resource_request == true
	verb in rules.write_verbs
	not subresource in rules.interactive_subresources
}

# A write whose stored object the PDP could not read (a patch the PEP did not resolve, a body
# that is not a JSON object, an object too deep to search) cannot be judged.
findings contains {
	"effect": "deny",
	"code": "kubernetes-write-unjudged",
	"message": concat("", [verb, " of ", resource_label, " cannot be judged: ", write_problem]),
} if {
	is_write
	write_problem != ""
}

write_problem := "the PDP read no write facts" if {
	write == null
} else := p if {
	p := write.problem
	is_string(p)
} else := "" if {
	write.problem == null
} else := "the write facts are malformed"

pod_specs := s if {
	s := write.pod_specs
	is_array(s)
} else := []

containers contains c if {
	some spec in pod_specs
	some c in spec.containers
}

# Workloads that escape their container: administrators may still create them (with approval
# where changes need it); nobody else may, directly or through a template.
workload_escapes contains {"code": "kubernetes-privileged-workload", "message": concat("", ["container ", container_name(c), " is privileged"])} if {
	some c in containers
	c.privileged == true
}

workload_escapes contains {"code": "kubernetes-host-namespace-workload", "message": concat("", ["the pod shares the node's ", ns, " namespace"])} if {
	some spec in pod_specs
	some field, ns in {"host_network": "network", "host_pid": "process", "host_ipc": "IPC"}
	spec[field] == true
}

workload_escapes contains {"code": "kubernetes-host-path-workload", "message": concat("", ["the pod mounts the node's ", json.marshal(path)])} if {
	some spec in pod_specs
	some path in spec.host_path_volumes
}

workload_escapes contains {"code": "kubernetes-host-port-workload", "message": concat("", ["container ", container_name(c), " binds a port on the node"])} if {
	some c in containers
	count(c.host_ports) > 0
}

workload_escapes contains {"code": "kubernetes-capability-workload", "message": concat("", ["container ", container_name(c), " adds capability ", capability])} if {
	some c in containers
	some capability in c.added_capabilities
	not capability in rules.allowed_added_capabilities
}

workload_escapes contains {"code": "kubernetes-unconfined-workload", "message": concat("", ["container ", container_name(c), " runs without its ", profile, " profile"])} if {
	some c in containers
	some profile in c.unconfined
}

workload_escapes contains {"code": "kubernetes-unmasked-proc-workload", "message": concat("", ["container ", container_name(c), " sees the node's /proc unmasked"])} if {
	some c in containers
	c.proc_mount_unmasked == true
}

container_name(c) := json.marshal(c.name)

# A Secret of type service-account-token is filled with a token by the cluster: a credential
# usable around this PEP, minted by a write. It is the administrators' alone, like
# serviceaccounts/token.
findings contains {
	"effect": "deny",
	"code": "kubernetes-admin-only-change",
	"message": concat("", [verb, " of a service account token Secret is for cluster administrators"]),
} if {
	is_resource_request == true
	verb in rules.change_verbs
	resource == "secrets"
	not is_admin
	object.get(object.get(action, "object", {}), "type", "") == "kubernetes.io/service-account-token"
}

findings contains {
	"effect": "deny",
	"code": escape.code,
	"message": escape.message,
} if {
	is_write
	not is_admin
	some escape in workload_escapes
}

# An exec's command or a port-forward's ports that cannot be read are not approved blind.
findings contains {
	"effect": "deny",
	"code": "kubernetes-exec-command-unreadable",
	"message": concat("", ["the exec command cannot be analysed: ", action.exec.shell.parse_error]),
} if {
	is_string(action.exec.shell.parse_error)
}

findings contains {
	"effect": "deny",
	"code": "kubernetes-port-forward-unreadable",
	"message": concat("", ["the port-forward ports cannot be read: ", action.port_forward.parse_error]),
} if {
	is_string(action.port_forward.parse_error)
}

# --- Masks: Secret values, in every shape a response takes --------------------------------------

# A Secret's values are in `data`, `stringData` and (after a client-side apply) the last-applied
# annotation; each is named in the object itself, each item of a list, a watch event's object and
# a table row's object (of a table, or of a watch event carrying one). Writes answer with the
# stored object too, so every verb on Secrets carries the masks.
masks contains {"kind": "json-path", "path": concat("", [document, field]), "strategy": rules.secret_masking.strategy} if {
	is_resource_request == true
	resource in rules.secret_masking.resources
	subresource == ""
	not is_admin
	some document in rules.secret_masking.documents
	some field in rules.secret_masking.fields
}
