package file

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
)

// warningSubject matches the start of a graph warning: "Kind ns/name: path".
var warningSubject = regexp.MustCompile(`^([A-Za-z]+) (?:([^/ :]+)/)?([^/ :]+): ((?:spec|metadata)[^ :,;]*)`)

// Locate prefixes a warning about an object ("Kind namespace/name: field
// ...", as internal/graph writes them) with the file, document and line of
// that field in the input, the way Diagnostic.String does. A warning whose
// object or field is not found is returned as it is.
func (l *Loader) Locate(warning string) string {
	m := warningSubject.FindStringSubmatch(warning)
	if m == nil {
		return warning
	}
	key := objKey{kind: m[1], namespace: m[2], name: m[3]}
	path := parsePath(strings.TrimRight(m[4], "."))
	for _, p := range slices.Sorted(maps.Keys(l.files)) {
		for _, d := range l.files[p].docs {
			if d.obj == nil || d.obj.key != key || d.doc.data == nil {
				continue
			}
			var root yamlv3.Node
			if yamlv3.Unmarshal(d.doc.data, &root) != nil {
				return warning
			}
			top := docRoot(&root)
			line := lineOf(top, path, d.doc)
			return fmt.Sprintf("%s: document %d (line %d): %s", l.rel(p), d.doc.index, line, warning)
		}
	}
	return warning
}
