package file

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	yamlv3 "go.yaml.in/yaml/v3"

	"portico.dev/portico/internal/crdvalidation"
)

// document is one YAML document of a file and the line it starts on.
type document struct {
	index int // 1-based
	line  int // 1-based line of its first line
	data  []byte
}

// splitDocuments splits a multi-document YAML file on "---" lines.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	start, line := 1, 0
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.Bytes()))) > 0 {
			docs = append(docs, document{index: len(docs) + 1, line: start, data: bytes.Clone(cur.Bytes())})
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), MaxFileSize+1)
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "---" || strings.HasPrefix(text, "--- ") || strings.HasPrefix(text, "---#") {
			flush()
			start = line + 1
			continue
		}
		cur.WriteString(text)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

func stripComments(b []byte) []byte {
	var out bytes.Buffer
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out.Write(l)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// kinds maps "apiVersion kind" to a constructor of the typed object. The
// v1beta1 Gateway API kinds have the v1 schema and are read as v1.
var kinds = map[string]func() any{
	"gateway.networking.k8s.io/v1 GatewayClass":        func() any { return &gwv1.GatewayClass{} },
	"gateway.networking.k8s.io/v1beta1 GatewayClass":   func() any { return &gwv1.GatewayClass{} },
	"gateway.networking.k8s.io/v1 Gateway":             func() any { return &gwv1.Gateway{} },
	"gateway.networking.k8s.io/v1beta1 Gateway":        func() any { return &gwv1.Gateway{} },
	"gateway.networking.k8s.io/v1 HTTPRoute":           func() any { return &gwv1.HTTPRoute{} },
	"gateway.networking.k8s.io/v1beta1 HTTPRoute":      func() any { return &gwv1.HTTPRoute{} },
	"gateway.networking.k8s.io/v1 ReferenceGrant":      func() any { return &gwv1.ReferenceGrant{} },
	"gateway.networking.k8s.io/v1beta1 ReferenceGrant": func() any { return &gwv1.ReferenceGrant{} },

	"gateway.networking.k8s.io/v1 ListenerSet": func() any { return &gwv1.ListenerSet{} },

	"v1 Namespace":                      func() any { return &corev1.Namespace{} },
	"v1 Service":                        func() any { return &corev1.Service{} },
	"v1 Secret":                         func() any { return &corev1.Secret{} },
	"discovery.k8s.io/v1 EndpointSlice": func() any { return &discoveryv1.EndpointSlice{} },

	"gateway.networking.k8s.io/v1 BackendTLSPolicy": func() any { return &gwv1.BackendTLSPolicy{} },
	"v1 ConfigMap": func() any { return &corev1.ConfigMap{} },
	"certificates.k8s.io/v1 ClusterTrustBundle":      func() any { return &certificatesv1.ClusterTrustBundle{} },
	"certificates.k8s.io/v1beta1 ClusterTrustBundle": func() any { return &certificatesv1beta1.ClusterTrustBundle{} },
}

// header is what a document says about itself, read leniently from its
// YAML nodes so that a document that does not decode can still be named.
type header struct {
	apiVersion, kind, namespace, name string
	kindLine, nameLine                int // file lines; 0 when absent
	// notString is the first of these fields set to something else than a
	// string, and its line.
	notString     string
	notStringLine int
}

func (h header) String() string {
	n, ns := h.name, h.namespace
	if ns == "" && namespaced(h.kind) {
		ns = "default"
	}
	if ns != "" && n != "" {
		n = ns + "/" + n
	}
	return strings.TrimSpace(h.kind + " " + n)
}

// prefix is "Kind ns/name: " when the document could be named.
func prefix(h header) string {
	if h.kind == "" {
		return ""
	}
	return h.String() + ": "
}

// docError is a problem with one document, at a line of its file. A
// warning means the document is ignored on purpose (a kind Portico does not
// read); an error means it is broken.
type docError struct {
	line    int
	warning bool
	msg     string
}

func (e *docError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// decoded is one document read: its header (always, as far as it could be
// read) and its object or the reason it has none.
type decoded struct {
	hdr header
	obj metav1.Object
	err *docError
}

// decode strictly decodes one document: the one point where a document's
// bytes become an object. It never panics on any input.
func decode(doc document) (d decoded) {
	var root yamlv3.Node
	fail := func(line int, format string, a ...any) decoded {
		// An error at the end of the stream is on the document's last line.
		last := doc.line + max(bytes.Count(doc.data, []byte("\n")), 1) - 1
		line = min(max(line, doc.line), last)
		d.err = &docError{line: line, msg: fmt.Sprintf(format, a...)}
		return d
	}
	// The YAML-to-JSON conversion reports syntax errors and duplicate keys
	// at the right lines; yaml.v3 gives the nodes, hence the lines of fields.
	js, jsErr := yaml.YAMLToJSONStrict(doc.data)
	v3Err := yamlv3.Unmarshal(doc.data, &root)
	top := docRoot(&root)
	if v3Err == nil && top != nil && top.Kind == yamlv3.MappingNode {
		d.hdr = readHeader(top, doc)
	}
	h := d.hdr
	if jsErr != nil {
		return fail(yamlErrLine(jsErr.Error(), doc), "%snot valid YAML: %s", prefix(h), fileLines(stripYAMLPrefix(jsErr.Error()), doc))
	}
	if v3Err != nil {
		return fail(yamlErrLine(v3Err.Error(), doc), "not valid YAML: %s", fileLines(stripYAMLPrefix(v3Err.Error()), doc))
	}
	if top == nil || top.Kind != yamlv3.MappingNode {
		return fail(doc.line, "a document must be a mapping with apiVersion, kind and metadata; this one is a %s", nodeKind(top))
	}
	switch {
	case h.notString != "":
		return fail(h.notStringLine, "%s%s must be a string", prefix(h), h.notString)
	case h.apiVersion == "" && h.kind == "":
		return fail(doc.line, "apiVersion and kind are required (e.g. apiVersion: gateway.networking.k8s.io/v1, kind: HTTPRoute)")
	case h.apiVersion == "":
		return fail(h.kindLine, "%s: apiVersion is required%s", h.kind, versionHint(h.kind, ""))
	case h.kind == "":
		return fail(doc.line, "kind is required (apiVersion %s)", h.apiVersion)
	}
	newObj, ok := kinds[h.apiVersion+" "+h.kind]
	if !ok {
		d.err = &docError{line: h.kindLine, warning: true, msg: unreadKind(h)}
		return d
	}
	obj := newObj()
	// sigs.k8s.io/json names the field path of unknown and duplicate fields,
	// as the API server's strict field validation does.
	strict, err := sigsjson.UnmarshalStrict(js, obj)
	if err != nil {
		path, msg := typeError(js, h, newObj)
		if path == nil {
			return fail(doc.line, "%s: %s", h, err)
		}
		return fail(lineOf(top, path, doc), "%s: %s: %s", h, pathString(path), msg)
	}
	if len(strict) > 0 {
		e := strict[0].Error()
		path := strictPath(e)
		more := ""
		if len(strict) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(strict)-1)
		}
		return fail(lineOf(top, path, doc), "%s: %s%s; check the field name and its indentation against the %s %s reference",
			h, e, more, h.apiVersion, h.kind)
	}
	// What the API server would refuse is refused here, with its message,
	// at the line of the first field it names.
	if err := crdvalidation.Validate(h.apiVersion, h.kind, js); err != nil {
		line := h.kindLine
		var ie *crdvalidation.InvalidError
		if errors.As(err, &ie) && len(ie.Errs) > 0 {
			line = lineOf(top, parsePath(ie.Errs[0].Field), doc)
		}
		return fail(line, "%v", err)
	}
	mo, ok := upgrade(obj).(metav1.Object)
	if !ok {
		return fail(doc.line, "%s: not an object", h)
	}
	if mo.GetName() == "" {
		return fail(h.kindLine, "%s: metadata.name is required", h.kind)
	}
	d.obj = mo
	return d
}

// docRoot returns the top node of a parsed document (nil when empty).
func docRoot(n *yamlv3.Node) *yamlv3.Node {
	if n.Kind == yamlv3.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n.Kind == yamlv3.AliasNode {
		n = n.Alias
	}
	return n
}

func nodeKind(n *yamlv3.Node) string {
	switch {
	case n == nil:
		return "empty document"
	case n.Kind == yamlv3.SequenceNode:
		return "list"
	case n.Kind == yamlv3.ScalarNode:
		return fmt.Sprintf("scalar (%q)", truncate(n.Value, 40))
	}
	return "value of another sort"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// readHeader reads apiVersion, kind and metadata's name and namespace when
// they are strings, and ignores them otherwise.
func readHeader(top *yamlv3.Node, doc document) header {
	var h header
	read := func(m *yamlv3.Node, field, path string) (string, int) {
		k, v := mapGet(m, field)
		if k == nil {
			return "", 0
		}
		line := k.Line + doc.line - 1
		if v == nil || v.Kind != yamlv3.ScalarNode {
			if h.notString == "" {
				h.notString, h.notStringLine = path, line
			}
			return "", line
		}
		return truncate(v.Value, 253), line
	}
	h.apiVersion, _ = read(top, "apiVersion", "apiVersion")
	h.kind, h.kindLine = read(top, "kind", "kind")
	if _, md := mapGet(top, "metadata"); md != nil && md.Kind == yamlv3.MappingNode {
		h.name, h.nameLine = read(md, "name", "metadata.name")
		h.namespace, _ = read(md, "namespace", "metadata.namespace")
	}
	return h
}

// mapGet returns the key and value nodes of key in a mapping node.
func mapGet(m *yamlv3.Node, key string) (k, v *yamlv3.Node) {
	if m == nil || m.Kind != yamlv3.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yamlv3.AliasNode {
				v = v.Alias
			}
			return m.Content[i], v
		}
	}
	return nil, nil
}

// readVersions is, for each kind Portico reads, the version to write.
var readVersions = map[string]string{}

func init() {
	for k := range kinds {
		version, kind, _ := strings.Cut(k, " ")
		if strings.HasSuffix(version, "/v1") || version == "v1" || readVersions[kind] == "" {
			readVersions[kind] = version
		}
	}
}

// unreadKind says why a document of a known kind in another version, or of
// a kind Portico does not read, is ignored, and what to do about it.
func unreadKind(h header) string {
	if v, ok := readVersions[h.kind]; ok {
		return fmt.Sprintf("%s: apiVersion %s is not a version portico reads; the document is ignored%s", h, h.apiVersion, versionHint(h.kind, v))
	}
	group, _, _ := strings.Cut(h.apiVersion, "/")
	if strings.HasSuffix(group, ".k8s.io") && strings.HasPrefix(group, "gateway.networking") {
		return fmt.Sprintf("%s: portico does not implement %s %s; the document is ignored", h, h.apiVersion, h.kind)
	}
	return fmt.Sprintf("%s %s is not a kind portico reads; ignored", h.apiVersion, h.kind)
}

func versionHint(kind, version string) string {
	if version == "" {
		version = readVersions[kind]
	}
	if version == "" {
		return ""
	}
	return "; use apiVersion: " + version
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlErrLine returns the file line of the first "line N" of a YAML error.
func yamlErrLine(msg string, doc document) int {
	m := yamlLineRe.FindStringSubmatch(msg)
	if m == nil {
		return doc.line
	}
	n, _ := strconv.Atoi(m[1])
	return n + doc.line - 1
}

// fileLines turns the document lines a YAML error names into file lines.
func fileLines(msg string, doc document) string {
	return yamlLineRe.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(yamlLineRe.FindStringSubmatch(m)[1])
		return fmt.Sprintf("line %d", n+doc.line-1)
	})
}

func stripYAMLPrefix(msg string) string {
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	return strings.TrimPrefix(msg, "yaml: ")
}

// typeError decodes js again with encoding/json, whose type errors carry an
// offset, to find the path (with list indices) of a value of the wrong type,
// and says what the field takes in YAML terms rather than Go type names.
func typeError(js []byte, h header, newObj func() any) (path []any, msg string) {
	var te *json.UnmarshalTypeError
	err := json.Unmarshal(js, newObj())
	if err == nil {
		return nil, ""
	}
	var ok bool
	if te, ok = err.(*json.UnmarshalTypeError); !ok {
		return nil, ""
	}
	path = jsonPathAt(js, int(te.Offset))
	if len(path) == 0 {
		return nil, ""
	}
	return path, fmt.Sprintf("%s; see the %s %s reference for this field", mismatch(te.Type, te.Value), h.apiVersion, h.kind)
}

// upgrade reads older versions of a kind as the version the Snapshot holds.
func upgrade(obj any) any {
	if b, ok := obj.(*certificatesv1beta1.ClusterTrustBundle); ok {
		return &certificatesv1.ClusterTrustBundle{
			ObjectMeta: b.ObjectMeta,
			Spec:       certificatesv1.ClusterTrustBundleSpec{SignerName: b.Spec.SignerName, TrustBundle: b.Spec.TrustBundle},
		}
	}
	return obj
}
