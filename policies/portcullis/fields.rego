# Garbage-tolerant reads of input fields. A Rego call on an undefined value is itself undefined,
# even under `not` (`not is_string(x.missing)` does not succeed), so rules that must fire on a
# missing or mistyped field read it through these functions, which always return a value.
package portcullis.fields

# The field's value, or null when value is not an object or has no such key.
field(value, key) := object.get(value, key, null) if {
	is_object(value)
} else := null

# The field's value when it is a string, else "".
text(value, key) := s if {
	s := field(value, key)
	is_string(s)
} else := ""
