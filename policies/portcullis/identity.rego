# Who is asking, about which resource, and which access classes their roles grant there.
# Everything about the resource (type, environment) comes from data, never from the PEP's claim.
package portcullis.identity

# Garbage-tolerant views of the input: a missing or mistyped field reads as empty, so every
# rule below stays defined and the deny rules fire instead of silently dropping out.
principal := p if {
	p := input.principal
	is_object(p)
} else := {}

authenticated if principal.authenticated == true

# A missing or unknown kind claim counts as an agent: the stricter of the two.
kind := "human" if {
	principal.kind == "human"
} else := "agent"

is_agent if kind == "agent"

roles contains role if {
	is_array(principal.roles)
	some role in principal.roles
	is_string(role)
}

resource_name := n if {
	n := input.resource.name
	is_string(n)
} else := ""

resource_known if data.portcullis.resources[resource_name]

resource := data.portcullis.resources[resource_name] if {
	resource_known
} else := {}

resource_type := t if {
	t := resource.type
	is_string(t)
} else := ""

environment := e if {
	e := resource.environment
	is_string(e)
} else := ""

# Changes need approval unless data says this environment does not; an environment data does
# not describe is treated as production.
changes_need_approval if not data.portcullis.environments[environment].changes_need_approval == false

action_type := t if {
	t := input.action.type
	is_string(t)
} else := ""

has_access(access_class) if {
	some role in roles
	some grant in data.portcullis.roles[role].grants
	grant_covers_resource(grant)
	access_class in grant.access
}

grant_covers_resource(grant) if "*" in grant.resource_types

grant_covers_resource(grant) if resource_type in grant.resource_types

default has_capability(_) := false

has_capability(capability) if {
	some role in roles
	capability in data.portcullis.roles[role].capabilities
}

principal_error := e if {
	e := principal.error
	is_string(e)
} else := "no verified subject token"

findings contains {
	"effect": "deny",
	"code": "unauthenticated",
	"message": concat("", ["the principal is not authenticated: ", principal_error]),
} if {
	not authenticated
}

findings contains {
	"effect": "deny",
	"code": "unknown-resource",
	"message": "the resource is not in the policy data",
} if {
	not resource_known
}

findings contains {
	"effect": "deny",
	"code": "resource-type-mismatch",
	"message": concat("", ["the PEP's resource type does not match the policy data (", resource_type, ")"]),
} if {
	resource_known
	not input.resource.type == resource_type
}

findings contains {
	"effect": "deny",
	"code": "unsupported-action",
	"message": concat("", ["this action type is not accepted on a ", resource_type, " resource"]),
} if {
	resource_known
	not action_type in object.get(data.portcullis.resource_types, [resource_type, "action_types"], [])
}

# One deny per access class the action needs and no role grants.
access_findings(needs) := {f |
	some access_class in needs
	not has_access(access_class)
	f := {
		"effect": "deny",
		"code": "insufficient-role",
		"message": concat("", ["no role of the principal grants ", access_class, " access on ", resource_name]),
	}
}
