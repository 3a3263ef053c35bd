# hash -p PATH NAME makes NAME run PATH (as BASH_CMDS[NAME]=PATH does, and BASH_ALIASES[NAME]=TEXT
# makes NAME an alias: both are code variables in shell_environment): every later "NAME" in the
# text runs something policy judged under another name, so it is denied to everyone.
package portcullis.shell

findings contains {
	"effect": "deny",
	"code": "shell-command-lookup-override",
	"message": "hash -p makes a command name run another program",
} if {
	some cmd in commands
	cmd.name == "hash"
	some a in cmd.args
	sets_command_path(a)
}

sets_command_path(a) if not is_string(a)

sets_command_path(a) if {
	startswith(a, "-")
	not startswith(a, "--")
	contains(a, "p")
}
