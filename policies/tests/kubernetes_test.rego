# Kubernetes requests from their RequestInfo.
package portcullis.kubernetes_test

import data.portcullis.decision
import data.portcullis.fixtures as fx

list_pods := fx.resource_request("list", "pods", "", "prod", "")

delete_pod := fx.resource_request("delete", "pods", "", "prod", "web-1")

test_get_list_watch_are_allowed_for_reader if {
	every verb in ["get", "list", "watch"] {
		d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods", fx.resource_request(verb, "pods", "", "prod", ""))
		d.effect == "allow"
		fx.codes(d) == {"kubernetes-read-allowed"}
	}
}

test_read_needs_a_role if {
	d := decision with input as fx.kube("agent", [], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods", list_pods)
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_pod_logs_are_a_read if {
	logs := fx.resource_request("get", "pods", "log", "prod", "web-1")
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods/web-1/log", logs)
	d.effect == "allow"
}

test_secret_reads_are_allowed_masked_for_agents if {
	every verb in ["get", "list", "watch"] {
		req := fx.resource_request(verb, "secrets", "", "prod", "")
		d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/secrets", req)
		d.effect == "allow"
		fx.codes(d) == {"kubernetes-read-allowed"}
		json_paths(d) == secret_paths
	}
}

test_secret_reads_are_masked_for_human_readers if {
	req := fx.resource_request("get", "secrets", "", "prod", "db-password")
	d := decision with input as fx.kube("human", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/secrets/db-password", req)
	d.effect == "allow"
	json_paths(d) == secret_paths
}

test_secret_masks_name_every_response_shape if {
	req := fx.resource_request("list", "secrets", "", "prod", "")
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/secrets", req)
	every shape in ["$", "$.items[*]", "$.rows[*].object", "$.object", "$.object.items[*]", "$.object.rows[*].object"] {
		every field in [".data.*", ".stringData.*", ".metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']"] {
			{"kind": "json-path", "path": concat("", [shape, field]), "strategy": "redact"} in d.obligations.mask
		}
	}
	count(d.obligations.mask) == 18
}

test_secret_writes_answer_masked_too if {
	every verb in ["create", "update", "patch", "delete", "deletecollection"] {
		req := fx.resource_request(verb, "secrets", "", "staging", "db")
		d := decision with input as fx.kube("human", ["writer"], "staging-cluster", "PATCH", "/api/v1/namespaces/staging/secrets/db", req)
			with data.portcullis.resources as fx.with_staging_resources
		d.effect == "allow"
		json_paths(d) == secret_paths
	}
}

test_secret_values_are_clear_for_cluster_admins_only if {
	req := fx.resource_request("get", "secrets", "", "prod", "db-password")
	admin := decision with input as fx.kube("human", ["kube-admin"], "prod-cluster", "GET", "/api/v1/namespaces/prod/secrets/db-password", req)
	admin.effect == "allow"
	admin.obligations.mask == []
	pii := decision with input as fx.kube("human", ["reader", "pii-reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/secrets/db-password", req)
	json_paths(pii) == secret_paths
}

test_other_resources_carry_no_masks if {
	every res in ["configmaps", "pods"] {
		req := fx.resource_request("list", res, "", "prod", "")
		d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/x", req)
		d.obligations.mask == []
	}
}

test_secret_subresource_free_paths_only if {
	# RequestInfo could put a subresource on secrets only for a path the API server does not serve: no masks, and nothing comes back.
	req := fx.resource_request("get", "secrets", "status", "prod", "db")
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/secrets/db/status", req)
	d.obligations.mask == []
}

secret_paths := {concat("", [shape, field]) |
	some shape in ["$", "$.items[*]", "$.rows[*].object", "$.object", "$.object.items[*]", "$.object.rows[*].object"]
	some field in [".data.*", ".stringData.*", ".metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']"]
}

json_paths(d) := {m.path | some m in d.obligations.mask; m.kind == "json-path"}

test_changes_need_writer if {
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "DELETE", "/api/v1/namespaces/prod/pods/web-1", delete_pod)
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_changes_in_production_need_approval if {
	every verb in ["create", "update", "patch", "delete"] {
		req := fx.resource_request(verb, "pods", "", "prod", "web-1")
		d := decision with input as fx.kube("agent", ["writer"], "prod-cluster", "PATCH", "/api/v1/namespaces/prod/pods/web-1", req)
		d.effect == "approval_required"
		fx.codes(d) == {"kubernetes-change-requires-approval"}
		d.approval == {"quorum": 1, "approver_roles": ["approver"], "ttl_seconds": 900}
	}
}

test_changes_in_staging_are_allowed if {
	d := decision with input as fx.kube("agent", ["writer"], "staging-cluster", "DELETE", "/api/v1/namespaces/prod/pods/web-1", delete_pod)
		with data.portcullis.resources as fx.with_staging_resources
	d.effect == "allow"
	fx.codes(d) == {"kubernetes-change-allowed"}
}

test_namespace_delete_is_denied_for_agents if {
	req := fx.resource_request("delete", "namespaces", "", "", "prod")
	d := decision with input as fx.kube("agent", ["writer"], "prod-cluster", "DELETE", "/api/v1/namespaces/prod", req)
	d.effect == "deny"
	fx.codes(d) == {"kubernetes-namespace-delete-by-agent"}
}

test_namespace_delete_by_human_writer_needs_approval if {
	req := fx.resource_request("delete", "namespaces", "", "", "prod")
	d := decision with input as fx.kube("human", ["writer"], "prod-cluster", "DELETE", "/api/v1/namespaces/prod", req)
	d.effect == "approval_required"
}

test_deletecollection_is_denied_for_agents_even_in_staging if {
	req := fx.resource_request("deletecollection", "pods", "", "prod", "")
	d := decision with input as fx.kube("agent", ["writer"], "staging-cluster", "DELETE", "/api/v1/namespaces/prod/pods", req)
		with data.portcullis.resources as fx.with_staging_resources
	d.effect == "deny"
	fx.codes(d) == {"kubernetes-deletecollection-by-agent"}
}

test_exec_attach_portforward_proxy_need_approval_everywhere if {
	every sub in ["exec", "attach", "portforward", "proxy"] {
		req := fx.resource_request("create", "pods", sub, "prod", "web-1")
		d := decision with input as fx.kube("human", ["writer"], "staging-cluster", "POST", "/api/v1/namespaces/prod/pods/web-1/exec", req)
			with data.portcullis.resources as fx.with_staging_resources
		d.effect == "approval_required"
		fx.codes(d) == {"kubernetes-interactive-access-requires-approval"}
	}
}

test_legacy_proxy_verb_needs_approval if {
	req := fx.resource_request("proxy", "services", "", "prod", "web")
	d := decision with input as fx.kube("human", ["writer"], "staging-cluster", "GET", "/api/v1/proxy/namespaces/prod/services/web", req)
		with data.portcullis.resources as fx.with_staging_resources
	d.effect == "approval_required"
	fx.codes(d) == {"kubernetes-interactive-access-requires-approval"}
}

test_websocket_exec_over_get_needs_approval if {
	req := fx.resource_request("get", "pods", "exec", "prod", "web-1")
	d := decision with input as fx.kube("agent", ["writer"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods/web-1/exec", req)
	d.effect == "approval_required"
	"kubernetes-interactive-access-requires-approval" in fx.codes(d)
}

test_exec_needs_writer if {
	req := fx.resource_request("get", "pods", "exec", "prod", "web-1")
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods/web-1/exec", req)
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

test_discovery_is_open_to_every_verified_principal if {
	every path in ["/api", "/apis", "/version", "/openapi/v2", "/openapi/v3", "/openapi/v3/apis/apps/v1"] {
		d := decision with input as fx.kube("agent", [], "prod-cluster", "GET", path, fx.non_resource_request("get"))
		d.effect == "allow"
		fx.codes(d) == {"kubernetes-discovery-allowed"}
	}
}

test_group_and_version_discovery_is_open_to_every_verified_principal if {
	# RequestInfo leaves /api/v1, /apis/apps and /apis/apps/v1 non-resource.
	every path in ["/api/v1", "/apis/apps", "/apis/apps/v1"] {
		d := decision with input as fx.kube("agent", [], "prod-cluster", "GET", path, fx.non_resource_request("get"))
		d.effect == "allow"
		fx.codes(d) == {"kubernetes-discovery-allowed"}
	}
}

test_discovery_needs_a_verified_principal if {
	inp := fx.kube("agent", [], "prod-cluster", "GET", "/version", fx.non_resource_request("get"))
	d := decision with input as object.union(inp, {"principal": {"authenticated": false, "error": "token-missing", "sub": null, "iss": null, "kind": "agent", "roles": []}})
	d.effect == "deny"
	"unauthenticated" in fx.codes(d)
}

test_health_is_a_read if {
	every path in ["/healthz", "/livez", "/readyz", "/readyz/etcd"] {
		d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", path, fx.non_resource_request("get"))
		d.effect == "allow"
		fx.codes(d) == {"kubernetes-read-allowed"}
	}
	d := decision with input as fx.kube("agent", [], "prod-cluster", "GET", "/healthz", fx.non_resource_request("get"))
	d.effect == "deny"
}

test_other_non_resource_paths_are_for_admins_only if {
	every path in ["/logs", "/logs/kube-apiserver.log", "/debug/pprof/profile", "/metrics", "/openid/v1/jwks", "/.well-known/openid-configuration", "/"] {
		reader := decision with input as fx.kube("human", ["reader", "writer"], "prod-cluster", "GET", path, fx.non_resource_request("get"))
		reader.effect == "deny"
		fx.codes(reader) == {"insufficient-role"}
		admin := decision with input as fx.kube("human", ["kube-admin"], "prod-cluster", "GET", path, fx.non_resource_request("get"))
		admin.effect == "allow"
		fx.codes(admin) == {"kubernetes-non-resource-read-by-admin"}
	}
}

test_non_resource_path_without_canonical_form_is_denied if {
	d := decision with input as fx.kube_with("human", ["kube-admin"], "prod-cluster", "GET", "/debug/../version", fx.non_resource_request("get"), {"canonical_path": null})
	d.effect == "deny"
	fx.codes(d) == {"kubernetes-unknown-request"}
}

test_non_resource_post_is_denied if {
	d := decision with input as fx.kube("human", ["writer"], "prod-cluster", "POST", "/logs", fx.non_resource_request("post"))
	d.effect == "deny"
	fx.codes(d) == {"kubernetes-non-resource-change"}
}

test_unknown_verb_is_denied if {
	req := fx.resource_request("escalate", "roles", "", "prod", "admin")
	d := decision with input as fx.kube("human", ["writer"], "prod-cluster", "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/prod/roles/admin", req)
	d.effect == "deny"
	fx.codes(d) == {"kubernetes-unknown-request"}
}

test_request_without_request_info_is_denied if {
	req := object.remove(list_pods, ["is_resource_request"])
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods", req)
	d.effect == "deny"
	"kubernetes-unknown-request" in fx.codes(d)
}

# --- deletes, kube-system ---

test_deletes_in_production_need_approval if {
	d := decision with input as fx.kube("human", ["writer"], "prod-cluster", "DELETE", "/api/v1/namespaces/prod/pods/web-1", delete_pod)
	d.effect == "approval_required"
	fx.codes(d) == {"kubernetes-change-requires-approval"}
	d.reasons[0].message == "delete of pods web-1 needs approval here"
}

test_kube_system_is_untouchable_for_agents if {
	every verb in ["get", "list", "watch", "create", "update", "patch", "delete"] {
		req := fx.resource_request(verb, "configmaps", "", "kube-system", "coredns")
		d := decision with input as fx.kube("agent", ["reader", "writer"], "staging-cluster", "GET", "/api/v1/namespaces/kube-system/configmaps/coredns", req)
			with data.portcullis.resources as fx.with_staging_resources
		d.effect == "deny"
		"kubernetes-protected-namespace-by-agent" in fx.codes(d)
	}
}

test_the_kube_system_namespace_itself_is_untouchable_for_agents if {
	req := fx.resource_request("update", "namespaces", "", "", "kube-system")
	d := decision with input as fx.kube("agent", ["writer"], "staging-cluster", "PUT", "/api/v1/namespaces/kube-system", req)
		with data.portcullis.resources as fx.with_staging_resources
	d.effect == "deny"
	"kubernetes-protected-namespace-by-agent" in fx.codes(d)
}

test_kube_system_reads_by_humans_are_allowed if {
	req := fx.resource_request("list", "pods", "", "kube-system", "")
	d := decision with input as fx.kube("human", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/kube-system/pods", req)
	d.effect == "allow"
}

# --- workloads that escape their container ---

create_pod := fx.resource_request("create", "pods", "", "prod", "")

create_deployment := object.union(fx.resource_request("create", "deployments", "", "prod", ""), {"api_prefix": "apis", "api_group": "apps"})

write_with(specs) := {"write": fx.write_of(specs)}

test_a_plain_pod_create_needs_approval_in_production if {
	d := decision with input as fx.kube_with("agent", ["writer"], "prod-cluster", "POST", "/api/v1/namespaces/prod/pods", create_pod, write_with([fx.pod_spec({})]))
	d.effect == "approval_required"
	fx.codes(d) == {"kubernetes-change-requires-approval"}
}

escapes := {
	"kubernetes-privileged-workload": fx.pod_spec({"containers": [fx.container({"privileged": true})]}),
	"kubernetes-host-namespace-workload": fx.pod_spec({"host_pid": true}),
	"kubernetes-host-path-workload": fx.pod_spec({"host_path_volumes": ["/var/run/containerd"]}),
	"kubernetes-host-port-workload": fx.pod_spec({"containers": [fx.container({"host_ports": [22]})]}),
	"kubernetes-capability-workload": fx.pod_spec({"containers": [fx.container({"added_capabilities": ["NET_BIND_SERVICE", "SYS_ADMIN"]})]}),
	"kubernetes-unconfined-workload": fx.pod_spec({"containers": [fx.container({"unconfined": ["seccomp"]})]}),
	"kubernetes-unmasked-proc-workload": fx.pod_spec({"containers": [fx.container({"proc_mount_unmasked": true})]}),
}

test_escaping_pods_are_denied_directly_and_through_templates if {
	every code, spec in escapes {
		pod := decision with input as fx.kube_with("human", ["writer"], "staging-cluster", "POST", "/api/v1/namespaces/prod/pods", create_pod, write_with([spec]))
			with data.portcullis.resources as fx.with_staging_resources
		pod.effect == "deny"
		fx.codes(pod) == {code}
		template := object.union(spec, {"at": "spec.template.spec"})
		deployment := decision with input as fx.kube_with("agent", ["writer"], "prod-cluster", "PATCH", "/apis/apps/v1/namespaces/prod/deployments/web", create_deployment, write_with([fx.pod_spec({}), template]))
		deployment.effect == "deny"
		fx.codes(deployment) == {code}
	}
}

test_each_host_namespace_is_denied if {
	every field in ["host_network", "host_pid", "host_ipc"] {
		d := decision with input as fx.kube_with("agent", ["writer"], "prod-cluster", "POST", "/api/v1/namespaces/prod/pods", create_pod, write_with([fx.pod_spec({field: true})]))
		d.effect == "deny"
		fx.codes(d) == {"kubernetes-host-namespace-workload"}
	}
}

test_baseline_capabilities_are_allowed if {
	spec := fx.pod_spec({"containers": [fx.container({"added_capabilities": ["NET_BIND_SERVICE", "CHOWN"]})]})
	d := decision with input as fx.kube_with("agent", ["writer"], "staging-cluster", "POST", "/api/v1/namespaces/prod/pods", create_pod, write_with([spec]))
		with data.portcullis.resources as fx.with_staging_resources
	d.effect == "allow"
}

test_an_unreadable_capability_is_denied if {
	spec := fx.pod_spec({"containers": [fx.container({"added_capabilities": ["?"]})]})
	d := decision with input as fx.kube_with("agent", ["writer"], "staging-cluster", "POST", "/api/v1/namespaces/prod/pods", create_pod, write_with([spec]))
		with data.portcullis.resources as fx.with_staging_resources
	d.effect == "deny"
	fx.codes(d) == {"kubernetes-capability-workload"}
}

test_cluster_admins_may_create_escaping_workloads_with_approval if {
	spec := fx.pod_spec({"host_network": true, "containers": [fx.container({"privileged": true})]})
	d := decision with input as fx.kube_with("human", ["kube-admin"], "prod-cluster", "POST", "/api/v1/namespaces/prod/pods", create_pod, write_with([spec]))
	d.effect == "approval_required"
	fx.codes(d) == {"kubernetes-change-requires-approval"}
}

test_a_write_that_cannot_be_judged_is_denied_even_for_admins if {
	unresolved := {"source": null, "problem": "the patch carries no object as it will be stored", "kind": null, "api_version": null, "pod_specs": []}
	d := decision with input as fx.kube_with("human", ["kube-admin"], "prod-cluster", "PATCH", "/api/v1/namespaces/prod/pods/web", fx.resource_request("patch", "pods", "", "prod", "web"), {"write": unresolved})
	d.effect == "deny"
	fx.codes(d) == {"kubernetes-write-unjudged"}
	missing := decision with input as fx.kube_with("human", ["writer"], "prod-cluster", "POST", "/api/v1/namespaces/prod/pods", create_pod, {"write": null})
	missing.effect == "deny"
	fx.codes(missing) == {"kubernetes-write-unjudged"}
}

# --- exec, attach, port-forward ---

exec_req := fx.resource_request("get", "pods", "exec", "prod", "web-1")

test_exec_approval_names_the_command if {
	facts := {"exec": fx.stream({"command": ["sh", "-c", "cat /etc/hostname"], "shell": {"parse_error": null, "commands": [], "environment": []}})}
	d := decision with input as fx.kube_with("human", ["writer"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods/web-1/exec", exec_req, facts)
	d.effect == "approval_required"
	d.reasons[0].message == `pods/exec web-1 running ["sh","-c","cat /etc/hostname"] opens an interactive channel and needs approval`
}

test_exec_with_an_unreadable_script_is_denied if {
	facts := {"exec": fx.stream({"command": ["sh", "-c", "echo $("], "shell": {"parse_error": "reached EOF without matching (", "commands": [], "environment": []}})}
	d := decision with input as fx.kube_with("human", ["writer"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods/web-1/exec", exec_req, facts)
	d.effect == "deny"
	fx.codes(d) == {"kubernetes-exec-command-unreadable"}
}

test_port_forward_approval_names_the_ports if {
	req := fx.resource_request("get", "pods", "portforward", "prod", "web-1")
	d := decision with input as fx.kube_with("human", ["writer"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods/web-1/portforward", req, {"port_forward": {"ports": [8080, 5432], "parse_error": null}})
	d.effect == "approval_required"
	d.reasons[0].message == "pods/portforward web-1 to ports 8080,5432 opens an interactive channel and needs approval"
	bad := decision with input as fx.kube_with("human", ["writer"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods/web-1/portforward", req, {"port_forward": {"ports": [], "parse_error": "not a port number: \"http\""}})
	bad.effect == "deny"
	fx.codes(bad) == {"kubernetes-port-forward-unreadable"}
}

test_an_allowed_read_may_stand_for_the_same_request_again if {
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods", list_pods)
	d.effect == "allow"
	d.reuse_seconds == data.portcullis.kubernetes_rules.decision_reuse_seconds
}

test_read_reuse_is_off_when_the_setting_is_zero if {
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/pods", list_pods)
		with data.portcullis.kubernetes_rules.decision_reuse_seconds as 0
	d.effect == "allow"
	not d.reuse_seconds
}

test_changes_and_interactive_requests_are_never_reused if {
	change := decision with input as fx.kube("human", ["writer"], "staging-cluster", "DELETE", "/api/v1/namespaces/prod/pods/web-1", delete_pod)
		with data.portcullis.resources["staging-cluster"] as {"type": "kubernetes", "environment": "staging"}
	change.effect == "allow"
	not change.reuse_seconds
	exec := fx.resource_request("create", "pods", "exec", "prod", "web-1")
	held := decision with input as fx.kube("human", ["writer"], "prod-cluster", "POST", "/api/v1/namespaces/prod/pods/web-1/exec", exec)
	not held.reuse_seconds
}

# --- what only administrators change ---

test_cluster_control_and_credential_minting_are_for_admins_only if {
	cases := [
		["admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", "create"],
		["admissionregistration.k8s.io", "validatingadmissionpolicies", "", "delete"],
		["apiregistration.k8s.io", "apiservices", "", "update"],
		["apiextensions.k8s.io", "customresourcedefinitions", "", "patch"],
		["rbac.authorization.k8s.io", "clusterrolebindings", "", "create"],
		["certificates.k8s.io", "certificatesigningrequests", "", "create"],
		["certificates.k8s.io", "certificatesigningrequests", "approval", "update"],
		["", "serviceaccounts", "token", "create"],
		["", "nodes", "", "patch"],
		["rbac.authorization.k8s.io", "rolebindings", "", "create"],
		["rbac.authorization.k8s.io", "roles", "", "update"],
		["", "persistentvolumes", "", "create"],
	]
	every c in cases {
		req := object.union(fx.resource_request(c[3], c[1], c[2], "", "x"), {"api_group": c[0]})
		writer := decision with input as fx.kube("human", ["writer"], "staging-cluster", "POST", "/apis/x", req)
			with data.portcullis.resources as fx.with_staging_resources
		writer.effect == "deny"
		fx.codes(writer) == {"kubernetes-admin-only-change"}
		admin := decision with input as fx.kube("human", ["kube-admin"], "staging-cluster", "POST", "/apis/x", req)
			with data.portcullis.resources as fx.with_staging_resources
		admin.effect == "allow"
	}
}

test_reading_cluster_control_stays_a_read if {
	req := object.union(fx.resource_request("list", "clusterroles", "", "", ""), {"api_group": "rbac.authorization.k8s.io"})
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", req)
	d.effect == "allow"
}

# Namespaced RBAC is the administrators' too: the API server's own check against granting more
# than one holds sees the PEP's credential, not the principal, so a binding made through the PEP
# could hand a service account rights the principal never had.
test_service_accounts_stay_ordinary_changes if {
	every c in [["", "serviceaccounts", ""]] {
		req := object.union(fx.resource_request("create", c[1], c[2], "prod", ""), {"api_group": c[0]})
		d := decision with input as fx.kube("human", ["writer"], "prod-cluster", "POST", "/apis/x", req)
		d.effect == "approval_required"
	}
}

test_self_reviews_are_reads if {
	every c in [["authorization.k8s.io", "selfsubjectaccessreviews"], ["authorization.k8s.io", "selfsubjectrulesreviews"], ["authentication.k8s.io", "selfsubjectreviews"]] {
		req := object.union(fx.resource_request("create", c[1], "", "", ""), {"api_group": c[0]})
		d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "POST", "/apis/x", req)
		d.effect == "allow"
		fx.codes(d) == {"kubernetes-read-allowed"}
	}
}

test_reviews_of_others_stay_changes if {
	req := object.union(fx.resource_request("create", "subjectaccessreviews", "", "", ""), {"api_group": "authorization.k8s.io"})
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", req)
	d.effect == "deny"
	fx.codes(d) == {"insufficient-role"}
}

token_secret := {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t", "annotations": {"kubernetes.io/service-account.name": "default"}}, "type": "kubernetes.io/service-account-token"}

secret_create_of(obj) := fx.kube_with("human", ["writer"], "staging-cluster", "POST", "/api/v1/namespaces/prod/secrets", fx.resource_request("create", "secrets", "", "prod", ""), {"object": obj})

test_a_service_account_token_secret_is_for_admins_only if {
	writer := decision with input as secret_create_of(token_secret)
		with data.portcullis.resources as fx.with_staging_resources
	writer.effect == "deny"
	"kubernetes-admin-only-change" in fx.codes(writer)
	opaque := decision with input as secret_create_of(object.union(token_secret, {"type": "Opaque"}))
		with data.portcullis.resources as fx.with_staging_resources
	not "kubernetes-admin-only-change" in fx.codes(opaque)
}
