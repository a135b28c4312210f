package file

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
)

// A field path is a list of keys (string), list indices (int) and list
// items by name (named), as in spec.rules[0].filters[1] and
// spec.listeners[https].

type named string

func pathString(path []any) string {
	var b strings.Builder
	for _, e := range path {
		switch v := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		case named:
			fmt.Fprintf(&b, "[%s]", string(v))
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// parsePath reads "spec.rules[0].bogus" back into a path.
func parsePath(s string) []any {
	var out []any
	for _, part := range strings.Split(s, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, name)
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				break
			}
			if n, err := strconv.Atoi(idx); err == nil {
				out = append(out, n)
			} else {
				out = append(out, named(idx)) // spec.listeners[https]
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}

// strictPath returns the path quoted in a strict-decoding error such as
// `unknown field "spec.rules[0].bogus"`.
func strictPath(msg string) []any {
	_, q, ok := strings.Cut(msg, `"`)
	if !ok {
		return nil
	}
	q, _, _ = strings.Cut(q, `"`)
	return parsePath(q)
}

// lineOf returns the file line of the deepest node of path that exists in
// the document (the key's line for a field), or the document's first line.
func lineOf(top *yamlv3.Node, path []any, doc document) int {
	line := doc.line
	n := top
	for _, e := range path {
		if n == nil {
			break
		}
		switch v := e.(type) {
		case string:
			k, val := mapGet(n, v)
			if k == nil {
				return line
			}
			line, n = k.Line+doc.line-1, val
		case int:
			if n.Kind != yamlv3.SequenceNode || v < 0 || v >= len(n.Content) {
				return line
			}
			n = n.Content[v]
			line = n.Line + doc.line - 1
		case named:
			item := namedItem(n, string(v))
			if item == nil {
				return line
			}
			n, line = item, item.Line+doc.line-1
		}
	}
	return line
}

// jsonPathAt returns the path of the value that contains byte offset off of
// the JSON document js (the offset a json.UnmarshalTypeError gives).
func jsonPathAt(js []byte, off int) []any {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []*frame
	path := func() []any {
		var p []any
		for _, f := range stack {
			if f.array {
				p = append(p, f.index)
			} else if !f.wantKey {
				p = append(p, f.key)
			}
		}
		return p
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.array {
			f.index++
		} else {
			f.wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		pos := int(dec.InputOffset())
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if pos >= off {
					return path()
				}
				stack = append(stack, &frame{array: t == '[', wantKey: t == '{'})
			default:
				if len(stack) == 0 {
					return nil
				}
				stack = stack[:len(stack)-1]
				valueDone()
			}
		default:
			if len(stack) > 0 {
				if f := stack[len(stack)-1]; !f.array && f.wantKey {
					f.key, f.wantKey = fmt.Sprint(t), false
					continue
				}
			}
			if pos >= off {
				return path()
			}
			valueDone()
		}
	}
}

// mismatch says what a field takes and what it was given, in YAML terms.
// A number that does not fit (port: 70000 in a 16-bit field, 1.5 for a
// whole number) gets the range.
func mismatch(t reflect.Type, value string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n, ok := strings.CutPrefix(value, "number "); ok {
		switch t.Kind() {
		case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
			bits := t.Bits()
			return fmt.Sprintf("must be a whole number from %d to %d, not %s", int64(-1)<<(bits-1), uint64(1)<<(bits-1)-1, n)
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
			return fmt.Sprintf("must be a whole number from 0 to %d, not %s", uint64(1)<<t.Bits()-1, n)
		}
	}
	return fmt.Sprintf("must be %s, not %s", yamlType(t), yamlValue(value))
}

// yamlType says what a Go type is written as in YAML.
func yamlType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping (field: value lines)"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list (lines starting with -)"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another type of value"
}

// yamlValue names the JSON type encoding/json reports in YAML terms.
func yamlValue(v string) string {
	switch {
	case v == "object":
		return "a mapping"
	case v == "array":
		return "a list"
	case v == "string", strings.HasPrefix(v, "string"):
		return "a string"
	case v == "bool":
		return "true/false"
	case strings.HasPrefix(v, "number"):
		return "the number " + strings.TrimSpace(strings.TrimPrefix(v, "number"))
	}
	return v
}

// namedItem returns the item of a list of mappings whose name is name.
func namedItem(n *yamlv3.Node, name string) *yamlv3.Node {
	if n.Kind != yamlv3.SequenceNode {
		return nil
	}
	for _, it := range n.Content {
		if _, v := mapGet(it, "name"); v != nil && v.Value == name {
			return it
		}
	}
	return nil
}
