# The options a read-only command may take (shell_rules.read_only_commands[name].options).
#
# GNU tools accept any unambiguous abbreviation of a long option (--o= is --output=) and bundle
# short options (-us is -u -s), and some options name a program to run (sort
# --compress-program) or a file to write (journalctl --cursor-file): a list of forbidden
# spellings is never complete. A command whose spec lists its options is read-only only when
# every option word is one of them, spelled out in full; any other word starting with "-" makes
# it a change. Values of options that take one are data, not options, and not operands.
package portcullis.shell

# Every word of args is an option the spec allows, the value of one, or an operand.
options_permitted(_, spec) if not spec.options

options_permitted(args, spec) if {
	opts := spec.options
	every i, a in args {
		option_word_permitted(args, i, a, opts)
	}
}

option_word_permitted(args, i, _, opts) if option_value_word(args, i, opts)

option_word_permitted(_, _, a, _) if not option_like(a)

option_word_permitted(_, _, a, opts) if {
	option_like(a)
	allowed_option(a, opts)
}

option_like(a) if {
	startswith(a, "-")
	a != "-"
}

# --name, --name=value: the full name only.
allowed_option(a, opts) if {
	startswith(a, "--")
	not contains(a, "=")
	substring(a, 2, -1) in array.concat(option_list(opts, "long"), option_list(opts, "long_valued"))
}

allowed_option(a, opts) if {
	startswith(a, "--")
	contains(a, "=")
	name := substring(a, 2, indexof(a, "=") - 2)
	name in array.concat(option_list(opts, "long_valued"), option_list(opts, "long_optional"))
}

# -abc: flags up to the first letter that takes a value; the rest of the word is that value.
allowed_option(a, opts) if {
	not startswith(a, "--")
	letters := substring(a, 1, -1)
	k := first_value_letter(letters, opts)
	every j in numbers.range(0, count(letters) - 1) {
		flag_before_value(letters, j, k, opts)
	}
}

flag_before_value(_, j, k, _) if j >= k

flag_before_value(letters, j, k, opts) if {
	j < k
	short_letter(substring(letters, j, 1), opts, "short")
}

first_value_letter(letters, opts) := min(found) if {
	found := {j |
		some j in numbers.range(0, count(letters) - 1)
		letter := substring(letters, j, 1)
		value_letter(letter, opts)
	}
	count(found) > 0
} else := count(letters)

value_letter(letter, opts) if short_letter(letter, opts, "short_valued")

value_letter(letter, opts) if short_letter(letter, opts, "short_optional")

short_letter(letter, opts, key) if {
	letter != ""
	contains(object.get(opts, key, ""), letter)
}

# The word at i is the value of the option word before it (-k 2, --key 2).
option_value_word(args, i, opts) if {
	i > 0
	takes_next_word(args[i - 1], opts)
}

takes_next_word(w, opts) if {
	is_string(w)
	startswith(w, "--")
	not contains(w, "=")
	substring(w, 2, -1) in option_list(opts, "long_valued")
}

takes_next_word(w, opts) if {
	is_string(w)
	option_like(w)
	not startswith(w, "--")
	letters := substring(w, 1, -1)
	k := first_value_letter(letters, opts)
	k == count(letters) - 1
	short_letter(substring(letters, k, 1), opts, "short_valued")
}

option_list(opts, key) := object.get(opts, key, [])

# The operands: words that are neither options nor option values.
read_operands(args, spec) := [a |
	some i, a in args
	is_string(a)
	not startswith(a, "-")
	not spec_option_value(args, i, spec)
]

spec_option_value(args, i, spec) if option_value_word(args, i, spec.options)

# Operands must match a pattern: date's operand is "+FORMAT" (any other sets the clock).
operands_match(_, spec) if not spec.operand_pattern

operands_match(args, spec) if {
	every a in read_operands(args, spec) {
		regex.match(spec.operand_pattern, a)
	}
}
