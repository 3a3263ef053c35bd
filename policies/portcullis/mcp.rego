# MCP requests through the MCP gateway, to or from the server that is the resource
# (docs/policy-input.md, action.type "mcp"). Data: data.portcullis.mcp_rules (mcp_rules/data.json).
#
# Tools are judged at two levels:
#  - tool level: the principal, the resource, the tool's name and its annotations as the server
#    declared them, never its arguments. tools/list hides every tool some tool-level rule always
#    denies this principal (`hidden_tools`); a call of it is denied for the same reasons.
#  - argument level: the arguments data names (tool_arguments) as the PDP analysed them, by the
#    same rules as the same action through the Postgres PEP (sql), the SSH PEP (shell) and SFTP
#    (path). A tool with a sql or shell argument is judged by those rules alone: they read what
#    the statement or command does, which says more than the server's hints.
#
# MCP's defaults for tools without annotations: readOnlyHint false, destructiveHint true. Readers
# may call read-only tools; any other tool needs write access, and a destructive one approval
# where changes need it. A filesystem write (a path argument of a tool that is not read-only)
# outside the server's configured roots is denied. Requests the server sends the agent pass only
# as data allows.
package portcullis.mcp

import data.portcullis.fields
import data.portcullis.file
import data.portcullis.identity
import data.portcullis.shell
import data.portcullis.sql

rules := data.portcullis.mcp_rules

method := fields.text(input.action, "method")

tool := fields.text(input.action, "tool")

server := identity.resource_name

object_or_empty(value) := value if is_object(value) else := {}

array_or_empty(value) := value if is_array(value) else := []

server_rules := object_or_empty(object.get(object_or_empty(object.get(rules, "servers", {})), server, {}))

direction := "to_client" if {
	fields.field(input.action, "direction") == "to_client"
} else := "to_server"

to_server_methods := {"tools/call", "tools/list", "resources/read", "prompts/get"}

to_client_methods := {"sampling/createMessage", "elicitation/create", "roots/list"}

findings contains {
	"effect": "deny",
	"code": "mcp-method-direction",
	"message": concat("", [method, " is not a request the ", sender, " sends"]),
} if {
	not method in allowed_methods
	sender := {"to_client": "server", "to_server": "agent"}[direction]
}

allowed_methods := to_client_methods if direction == "to_client" else := to_server_methods

# --- tool level ---------------------------------------------------------------------------

# The annotations of the called tool, as the gateway read them from the server's tools/list,
# as far as policy takes them (trusted_annotations).
call_annotations := trusted_annotations(tool, object_or_empty(fields.field(input.action, "annotations")))

# A tool whose path arguments data names is a read only when data says so too (read_only_tools,
# the server's own list or the pack's): a server's readOnlyHint alone would turn a write into a
# read, with a reader's access and no roots. Otherwise its readOnlyHint is not taken.
trusted_annotations(name, annotations) := annotations if {
	not path_tool(name)
} else := annotations if {
	data_read_only(name)
} else := object.remove(annotations, {"readOnlyHint"})

path_tool(name) if {
	some kind in argument_kinds(name)
	kind == "path"
}

data_read_only(name) if name in array_or_empty(object.get(server_rules, "read_only_tools", []))

data_read_only(name) if name in array_or_empty(object.get(rules, "read_only_tools", []))

# Read-only: the server says so, and does not also call it destructive.
read_only(annotations) if {
	annotations.readOnlyHint == true
	not annotations.destructiveHint == true
}

# A request whose decision may stand for the very same request again (decision.rego,
# reuse_seconds): a call of a tool policy takes as read-only, judged by its name and path
# arguments (a SQL or shell tool is judged by what its text does, not by a hint), or a
# resources/read. Nothing else policy reads differs between two identical requests.
repeatable_read if {
	direction == "to_server"
	method == "tools/call"
	read_only(call_annotations)
	not judged_by_arguments(tool)
}

repeatable_read if {
	direction == "to_server"
	method == "resources/read"
}

# Destructive: not read-only, and not declared non-destructive (MCP's default is destructive).
destructive(annotations) if {
	not read_only(annotations)
	not annotations.destructiveHint == false
}

# The argument kinds data names for a tool of this server: the `*` entry, then the server's own.
argument_kinds(name) := object.union(
	object_or_empty(object.get(object_or_empty(object.get(object_or_empty(object.get(rules, "tool_arguments", {})), "*", {})), name, {})),
	object_or_empty(object.get(object_or_empty(object.get(object_or_empty(object.get(rules, "tool_arguments", {})), server, {})), name, {})),
)

# A database or shell tool: what its statement or command does decides, not its annotations.
judged_by_arguments(name) if {
	some kind in argument_kinds(name)
	kind in {"sql", "shell"}
}

tool_needs(name, annotations) := set() if {
	judged_by_arguments(name)
} else := {"read"} if {
	read_only(annotations)
} else := {"write"}

denied_tool(name) if name in array_or_empty(object.get(server_rules, "denied_tools", []))

denied_tool(name) if name in array_or_empty(object.get(rules, "denied_tools", []))

# What denies a tool whatever its arguments: a tools/list hides it, a call of it is denied.
tool_denials(name, annotations) := (denied_tool_findings(name) | unjudged_tool_findings(name)) | identity.access_findings(tool_needs(name, annotations))

# A server whose paths policy fences (roots) runs only the tools whose arguments data names, or
# that data says take no path (tools_without_paths): a tool it adds later (an upgrade, a hostile
# server) would otherwise write wherever it likes, judged by its annotations alone.
unjudged_tool_findings(name) := {{
	"effect": "deny",
	"code": "mcp-tool-not-judged",
	"message": concat("", ["the tool ", name, " of ", server, " takes arguments policy data does not name, and ", server, " is fenced to its roots"]),
} |
	count(roots) > 0
	count(argument_kinds(name)) == 0
	not name in array_or_empty(object.get(server_rules, "tools_without_paths", []))
}

denied_tool_findings(name) := {{
	"effect": "deny",
	"code": "mcp-tool-denied",
	"message": concat("", ["the tool ", name, " of ", server, " is not offered"]),
} |
	denied_tool(name)
}

findings contains f if {
	method == "tools/call"
	tool != ""
	some f in tool_denials(tool, call_annotations)
}

findings contains {
	"effect": "deny",
	"code": "mcp-tool-unnamed",
	"message": "the call names no tool",
} if {
	method == "tools/call"
	tool == ""
}

findings contains {
	"effect": "allow",
	"code": "mcp-tool-read-only",
	"message": concat("", ["call of ", tool, ", which ", server, " marks read-only"]),
} if {
	method == "tools/call"
	not judged_by_arguments(tool)
	read_only(call_annotations)
}

findings contains {
	"effect": "allow",
	"code": "mcp-tool-change",
	"message": concat("", ["call of ", tool, ", which may change what ", server, " holds"]),
} if {
	method == "tools/call"
	not judged_by_arguments(tool)
	not read_only(call_annotations)
	not destructive(call_annotations)
}

findings contains {
	"effect": "allow",
	"code": "mcp-tool-change",
	"message": concat("", ["call of ", tool, ", which may change what ", server, " holds"]),
} if {
	method == "tools/call"
	not judged_by_arguments(tool)
	destructive(call_annotations)
	not identity.changes_need_approval
}

findings contains {
	"effect": "approval_required",
	"code": "mcp-destructive-tool-requires-approval",
	"message": concat("", ["call of ", tool, ", which ", server, " does not declare non-destructive, needs approval here"]),
	"approval": "default",
} if {
	method == "tools/call"
	not judged_by_arguments(tool)
	destructive(call_annotations)
	identity.changes_need_approval
}

# --- tools/list ---------------------------------------------------------------------------

listed_tools := array_or_empty(fields.field(input.action, "tools"))

hidden_tools := sort([name |
	some listed in listed_tools
	name := fields.text(listed, "name")
	name != ""
	count(tool_denials(name, trusted_annotations(name, object_or_empty(fields.field(listed, "annotations"))))) > 0
])

findings contains {
	"effect": "allow",
	"code": "mcp-tools-list",
	"message": concat("", ["listing the tools of ", server]),
} if {
	method == "tools/list"
}

# --- argument level -------------------------------------------------------------------------

analysis := object_or_empty(fields.field(input.action, "argument_analysis"))

# Fail closed: the bundle the PDP read tool_arguments from may not be the one deciding (an
# activation in between), so every kind this bundle names must have been analysed as such.
findings contains {
	"effect": "deny",
	"code": "mcp-argument-not-analysed",
	"message": concat("", ["the argument ", name, " of ", tool, " was not analysed as ", kind_text(kind)]),
} if {
	method == "tools/call"
	some name, kind in argument_kinds(tool)
	not analysed_as(name, kind)
}

analysed_as(name, kind) if analysis[name].kind == kind

kind_text(kind) := kind if is_string(kind) else := "what data names"

findings contains {
	"effect": "deny",
	"code": "mcp-argument-unreadable",
	"message": concat("", ["the argument ", name, " cannot be judged: ", problem]),
} if {
	method == "tools/call"
	some name, argument in analysis
	not fields.field(argument, "parse_error") == null
	problem := problem_text(fields.field(argument, "parse_error"))
}

problem_text(problem) := problem if is_string(problem) else := "it was not analysed"

analysed(kind) := [argument |
	method == "tools/call"
	some argument in analysis
	fields.text(argument, "kind") == kind
	fields.field(argument, "parse_error") == null
]

# The resources whose rules a server's SQL, shell commands and paths meet (data: `database` a
# Postgres resource, `host` an SSH host); absent, the MCP server itself.
database_resource := {"type": "postgres", "name": name} if {
	name := server_rules.database
	is_string(name)
} else := input.resource

host_resource := {"type": "ssh", "name": name} if {
	name := server_rules.host
	is_string(name)
} else := input.resource

findings contains {
	"effect": "deny",
	"code": "mcp-judging-resource-unknown",
	"message": concat("", [server, " is judged as ", name, ", which is not in the policy data"]),
} if {
	some name in [object.get(server_rules, "database", null), object.get(server_rules, "host", null)]
	is_string(name)
	not data.portcullis.resources[name]
}

sql_action(argument) := object.union(object.remove(argument, {"kind"}), {"type": "sql"})

shell_action(argument) := object.union(object.remove(argument, {"kind"}), {"type": "shell"})

findings contains f if {
	some argument in analysed("sql")
	some f in sql_findings(sql_action(argument))
}

sql_findings(action) := found | access if {
	found := sql.findings with input.action as action with input.resource as database_resource
	needs := sql.needs with input.action as action with input.resource as database_resource
	access := identity.access_findings(needs) with input.resource as database_resource
}

findings contains f if {
	some argument in analysed("shell")
	some f in shell_findings(shell_action(argument))
}

shell_findings(action) := found | access if {
	found := shell.findings with input.action as action with input.resource as host_resource
	needs := shell.needs with input.action as action with input.resource as host_resource
	access := identity.access_findings(needs) with input.resource as host_resource
}

# A path argument is a file operation on each path: a read for a read-only tool, else a write.
path_operation := "read" if read_only(call_annotations) else := "write"

findings contains f if {
	some argument in analysed("path")
	paths := array_or_empty(argument.paths)
	count(paths) > 0
	some f in file_findings(file_action(path_operation, paths))
}

file_action(operation, paths) := {"type": "file", "protocol": "mcp", "operation": operation, "path": paths[0], "paths": paths, "parse_error": null, "as_sent": {"path": paths[0]}}

file_findings(action) := found | access if {
	found := file.findings with input.action as action with input.resource as host_resource
	needs := file.needs with input.action as action with input.resource as host_resource
	access := identity.access_findings(needs) with input.resource as host_resource
}

# Filesystem writes stay under the server's roots (glob patterns of directories).
roots := [root | some root in array_or_empty(object.get(server_rules, "roots", [])); is_string(root)]

under_root(path) if {
	some root in roots
	glob.match(root, ["/"], path)
}

under_root(path) if {
	some root in roots
	glob.match(concat("", [trim_suffix(root, "/"), "/**"]), ["/"], path)
}

findings contains {
	"effect": "deny",
	"code": "mcp-write-outside-roots",
	"message": concat("", [tool, " would write ", path, ", outside the roots of ", server]),
} if {
	method == "tools/call"
	not read_only(call_annotations)
	some argument in analysed("path")
	some path in array_or_empty(argument.paths)
	not under_root(path)
}

# A server whose data says `confine_reads` is read only under its roots too: the folders it was
# started with, whatever an agent's roots or a symbolic link inside would widen them to.
findings contains {
	"effect": "deny",
	"code": "mcp-read-outside-roots",
	"message": concat("", [tool, " would read ", path, ", outside the roots of ", server]),
} if {
	method == "tools/call"
	object.get(server_rules, "confine_reads", false) == true
	read_only(call_annotations)
	some argument in analysed("path")
	some path in array_or_empty(argument.paths)
	not under_root(path)
}

# --- resources/read and prompts/get ---------------------------------------------------------

uri := fields.text(input.action, "uri")

denied_uri_prefixes := {prefix |
	some list in [object.get(rules, "denied_uri_prefixes", []), object.get(server_rules, "denied_uri_prefixes", [])]
	some prefix in array_or_empty(list)
	is_string(prefix)
}

findings contains {
	"effect": "allow",
	"code": "mcp-resource-read",
	"message": concat("", ["reading ", uri, " from ", server]),
} if {
	method == "resources/read"
}

findings contains {
	"effect": "deny",
	"code": "mcp-resource-denied",
	"message": concat("", [uri, " is not read through ", server]),
} if {
	method == "resources/read"
	some prefix in denied_uri_prefixes
	startswith(lower(uri), lower(prefix))
}

# A URI whose path another reader could resolve differently (dot segments, encoded dots,
# slashes or backslashes) would slip past any prefix rule: refused.
findings contains {
	"effect": "deny",
	"code": "mcp-resource-uri-unreadable",
	"message": "the resource URI is empty or has dot segments, encoded separators or backslashes",
} if {
	method == "resources/read"
	ambiguous_uri(uri)
}

ambiguous_uri(u) if u == ""

ambiguous_uri(u) if regex.match(`(^|/)\.\.?(/|$|[?#])|%2[eEfF]|%5[cC]|\\`, u)

# A file: URI names a file on the server's host: the file rules' read of that path applies.
findings contains {
	"effect": "deny",
	"code": "mcp-resource-uri-unreadable",
	"message": "a file: URI must be file:///absolute/path without percent-encoding, query or fragment",
} if {
	method == "resources/read"
	startswith(lower(uri), "file:")
	not file_uri_path
}

file_uri_path := path if {
	startswith(lower(uri), "file:///")
	not regex.match(`[%?#]`, uri)
	segments := [segment | some segment in split(substring(uri, 7, -1), "/"); segment != ""]
	path := concat("", ["/", concat("/", segments)])
}

findings contains f if {
	method == "resources/read"
	path := file_uri_path
	some f in file_findings(file_action("read", [path]))
}

findings contains {
	"effect": "allow",
	"code": "mcp-prompt-get",
	"message": concat("", ["getting the prompt ", fields.text(input.action, "prompt"), " of ", server]),
} if {
	method == "prompts/get"
}

findings contains {
	"effect": "deny",
	"code": "mcp-prompt-denied",
	"message": concat("", ["the prompt ", prompt, " of ", server, " is not offered"]),
} if {
	method == "prompts/get"
	prompt := fields.text(input.action, "prompt")
	prompt in array_or_empty(object.get(server_rules, "denied_prompts", []))
}

# --- requests the server sends the agent --------------------------------------------------

# The server's own entry wins; then the pack's default (roots and elicitation yes, sampling no),
# except that a server whose paths policy fences (roots in data) is not asked for the agent's
# roots: the reference filesystem server serves whatever folders the agent's answer names ("/"
# included) instead of those it was started with, so the agent would move the server's own fence.
server_to_client := object_or_empty(object.get(server_rules, "to_client", {}))

to_client_allowed(m) if server_to_client[m] == true

to_client_allowed(m) if {
	not server_names(m)
	not fenced_roots_request(m)
	object.get(object_or_empty(object.get(rules, "to_client", {})), m, false) == true
}

# The server's entry says something about m, true or false (the WASM build has no object.keys).
server_names(m) if {
	_ = server_to_client[m]
}

fenced_roots_request("roots/list") if count(roots) > 0

findings contains {
	"effect": "allow",
	"code": "mcp-server-request-allowed",
	"message": concat("", [server, " may send the agent ", method]),
} if {
	direction == "to_client"
	method in to_client_methods
	to_client_allowed(method)
}

findings contains {
	"effect": "deny",
	"code": "mcp-server-request-refused",
	"message": concat("", [server, " may not send the agent ", method]),
} if {
	direction == "to_client"
	method in to_client_methods
	not to_client_allowed(method)
}

# --- access the request needs ---------------------------------------------------------------

needs := tool_needs(tool, call_annotations) if {
	method == "tools/call"
} else := {"read"} if {
	method in {"tools/list", "resources/read", "prompts/get"}
	direction == "to_server"
} else := set()

# --- masks ----------------------------------------------------------------------------------

maskable_methods := {"tools/call", "resources/read", "prompts/get"}

# JSON paths data names for this server: per tool (and `*` for every call), for resource reads
# and for prompts. They apply to everyone: data names them because no one reads them in clear.
configured_masks := array_or_empty(object.get(object_or_empty(object.get(server_rules, "masks", {})), tool, [])) if {
	method == "tools/call"
} else := array_or_empty(object.get(server_rules, "resource_masks", [])) if {
	method == "resources/read"
} else := array_or_empty(object.get(server_rules, "prompt_masks", [])) if {
	method == "prompts/get"
} else := []

every_call_masks := array_or_empty(object.get(object_or_empty(object.get(server_rules, "masks", {})), "*", [])) if {
	method == "tools/call"
} else := []

masks contains json_path_mask(entry) if {
	method in maskable_methods
	some entry in array.concat(configured_masks, every_call_masks)
	is_string(entry.path)
}

json_path_mask(entry) := {"kind": "json-path", "path": entry.path, "strategy": object.get(entry, "strategy", "redact")}

# Value detectors over every text the server sends back, for whoever may not read personal data
# in clear (the gateway also runs its own behind them unless the answer says unmasked).
detectors := d if {
	d := server_rules.detectors
	is_array(d)
} else := array_or_empty(object.get(rules, "detectors", []))

masks contains {"kind": "byte-stream", "detectors": detectors, "strategy": object.get(rules, "detector_strategy", "redact")} if {
	method in maskable_methods
	count(detectors) > 0
	not identity.has_capability("unmasked-pii")
}

# A database tool's rows (data: `sql_result_rows`, the JSON path of one row in its result): each
# returned column computed from a sensitive column is masked by its name, as the Postgres PEP
# masks it; a column policy cannot trace is redacted, and every value when the names cannot be
# known (a star over a view or a subquery, EXECUTE, CALL, FETCH). For who lacks unmasked-pii;
# a server whose rows data does not locate cannot be masked, so such a statement is denied there.
sensitive := object_or_empty(data.portcullis.sensitive_columns)

rows_path := p if {
	p := server_rules.sql_result_rows
	is_string(p)
}

sql_statements := [st |
	some argument in analysed("sql")
	some st in array_or_empty(argument.statements)
]

# {"column": the result column's name, or null for every value, "strategy": …}
row_masks contains {"column": name, "strategy": strategy} if {
	some st in sql_statements
	some output in array_or_empty(st.outputs)
	not output.star == true
	some name, strategy in output_masks(output)
}

# A star over a known table: its sensitive columns, by their names.
row_masks contains {"column": column, "strategy": column_strategy(table, column)} if {
	some st in sql_statements
	some output in array_or_empty(st.outputs)
	output.star == true
	some ref in star_sources(output)
	ref.column == "*"
	table := ref.table
	known_table(table)
	some column, _ in object_or_empty(object.get(sensitive, table, {}))
}

# A star whose columns' names policy cannot tie to a sensitive source (a view, a subquery's renamed column): every value.
row_masks contains {"column": null, "strategy": "redact"} if {
	some st in sql_statements
	some output in array_or_empty(st.outputs)
	output.star == true
	some ref in star_sources(output)
	traced_sensitive(ref)
	not star_expands_by_name(ref)
}

row_masks contains {"column": null, "strategy": "redact"} if {
	some st in sql_statements
	st.kind in {"execute", "call", "cursor"}
}

# What a star expands: its one base table, else every source it is computed from.
star_sources(output) := [{"table": output.star_table, "column": "*"}] if {
	is_string(output.star_table)
} else := array_or_empty(output.derived_from)

star_expands_by_name(ref) if {
	ref.column == "*"
	known_table(ref.table)
}

row_mask_path(mask) := concat("", [rows_path, ".*"]) if {
	mask.column == null
} else := concat("", [rows_path, "[", json.marshal(mask.column), "]"])

masks contains {"kind": "json-path", "path": row_mask_path(mask), "strategy": mask.strategy} if {
	method == "tools/call"
	not identity.has_capability("unmasked-pii")
	some mask in row_masks
}

findings contains {
	"effect": "deny",
	"code": "mcp-sql-results-unmaskable",
	"message": concat("", ["the statement returns sensitive columns, and policy data does not say where ", server, " puts its rows (sql_result_rows)"]),
} if {
	method == "tools/call"
	not identity.has_capability("unmasked-pii")
	count(row_masks) > 0
	not rows_path
}

column_strategy(table, column) := object.get(sensitive[table][column], "strategy", "redact")

output_masks(output) := {output.name: column_strategy(ref.table, ref.column)} if {
	output.is_value == true
	ref := output.direct
	is_object(ref)
	sensitive[ref.table][ref.column]
} else := {output.name: "redact"} if {
	some ref in array_or_empty(output.derived_from)
	traced_sensitive(ref)
} else := {}

traced_sensitive(ref) if sensitive[ref.table][ref.column]

traced_sensitive(ref) if {
	ref.column == "*"
	sensitive[ref.table]
}

# A relation policy does not know may be a view of a sensitive table.
traced_sensitive(ref) if not known_table(ref.table)

known_table(name) if sensitive[name]

known_table(name) if name in array_or_empty(object.get(object_or_empty(data.portcullis.sql_rules), "base_tables", []))
