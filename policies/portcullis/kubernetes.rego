# Kubernetes API requests, judged on the kube-apiserver RequestInfo the PDP derived.
package portcullis.kubernetes

import data.portcullis.fields
import data.portcullis.identity

rules := data.portcullis.kubernetes_rules

request := r if {
	r := input.action.request
	is_object(r)
} else := {}

verb := v if {
	v := request.verb
	is_string(v)
} else := ""

resource := r if {
	r := request.resource
	is_string(r)
} else := ""

subresource := s if {
	s := request.subresource
	is_string(s)
} else := ""

resource_label := concat("/", [resource, subresource]) if {
	subresource != ""
} else := resource

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
	verb in rules.read_verbs
} else := "change" if {
	verb in rules.change_verbs
} else := "unknown"

non_resource_class := "read" if {
	verb in rules.non_resource_read_verbs
} else := "non-resource-change"

needs contains "read" if request_class == "read"

needs contains "write" if request_class in {"change", "interactive"}

findings contains {
	"effect": "allow",
	"code": "kubernetes-read-allowed",
	"message": "read-only Kubernetes request",
} if {
	request_class == "read"
}

findings contains {
	"effect": "approval_required",
	"code": "kubernetes-change-requires-approval",
	"message": concat("", [verb, " of ", resource_label, " needs approval here"]),
	"approval": "default",
} if {
	request_class == "change"
	identity.changes_need_approval
}

findings contains {
	"effect": "allow",
	"code": "kubernetes-change-allowed",
	"message": concat("", [verb, " of ", resource_label]),
} if {
	request_class == "change"
	not identity.changes_need_approval
}

# exec, attach, port-forward and proxy open a live channel into a workload: always approved.
findings contains {
	"effect": "approval_required",
	"code": "kubernetes-interactive-access-requires-approval",
	"message": concat("", [resource_label, " opens an interactive channel and needs approval"]),
	"approval": "default",
} if {
	request_class == "interactive"
}

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
	"code": "kubernetes-secret-read-by-agent",
	"message": concat("", ["agents may not read ", resource]),
} if {
	identity.is_agent
	is_resource_request == true
	verb in rules.read_verbs
	resource in rules.agent_denied_read_resources
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
