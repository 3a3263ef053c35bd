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

test_secret_reads_are_denied_for_agents if {
	every verb in ["get", "list", "watch"] {
		req := fx.resource_request(verb, "secrets", "", "prod", "")
		d := decision with input as fx.kube("agent", ["reader", "writer"], "prod-cluster", "GET", "/api/v1/namespaces/prod/secrets", req)
		d.effect == "deny"
		fx.codes(d) == {"kubernetes-secret-read-by-agent"}
	}
}

test_secret_reads_are_allowed_for_human_readers if {
	req := fx.resource_request("get", "secrets", "", "prod", "db-password")
	d := decision with input as fx.kube("human", ["reader"], "prod-cluster", "GET", "/api/v1/namespaces/prod/secrets/db-password", req)
	d.effect == "allow"
}

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

test_non_resource_get_is_a_read if {
	d := decision with input as fx.kube("agent", ["reader"], "prod-cluster", "GET", "/version", fx.non_resource_request("get"))
	d.effect == "allow"
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
