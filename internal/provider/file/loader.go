package file

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

// Diagnostic is a problem in the input that has no object status to carry
// it: a document that does not parse, an unknown kind, a duplicate object.
type Diagnostic struct {
	File     string `json:"file"`
	Document int    `json:"document,omitempty"`
	// Line is the file line of the field at fault (of the document when no
	// field is).
	Line int `json:"line,omitempty"`
	// Severity is "error" (content ignored, last good version kept) or
	// "warning" (content ignored, nothing lost).
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func (d Diagnostic) String() string {
	loc := d.File
	if d.Document > 0 {
		loc += fmt.Sprintf(": document %d (line %d)", d.Document, d.Line)
	}
	return fmt.Sprintf("%s: %s: %s", d.Severity, loc, d.Message)
}

// Loader reads a directory (or one file) into Snapshots. It remembers,
// across loads, the last good version of each document and the identity of
// each object (its generation and creation time), so it is meant to be reused.
type Loader struct {
	root  string
	base  string // what Diagnostic.File is relative to
	now   func() time.Time
	files map[string]*fileState
	ids   map[objKey]*identity
	// changes is what the latest Load changed.
	changes Changes
}

type fileState struct {
	hash  [32]byte
	docs  []docState // by position, as of the last parse
	diags []Diagnostic
}

// docState is what one document of a file serves: its object, or the last
// good version of the same document while it is broken, or nothing.
type docState struct {
	id  string
	obj *object
	// doc is the document obj was decoded from (kept to locate fields
	// that warnings name).
	doc document
}

func (st *fileState) objects() []object {
	var out []object
	for _, d := range st.docs {
		if d.obj != nil {
			out = append(out, *d.obj)
		}
	}
	return out
}

type object struct {
	key objKey
	obj metav1.Object
}

type objKey struct{ kind, namespace, name string }

type identity struct {
	specHash   [32]byte
	generation int64
	created    metav1.Time
}

// NewLoader returns a Loader for root, a directory or a single file.
func NewLoader(root string) *Loader {
	return &Loader{root: root, base: root, now: time.Now, files: map[string]*fileState{}, ids: map[objKey]*identity{}}
}

// Load reads the input. A document that fails to parse contributes the
// last good version of the same document and an error Diagnostic; the other
// documents of its file are served. Load fails only when --config itself
// cannot be read.
func (l *Loader) Load() (*resource.Snapshot, []Diagnostic, error) {
	base, cands, err := inputFiles(l.root)
	if err != nil {
		return nil, nil, err
	}
	l.base = base
	// Files are read and decoded in parallel (each into its own state),
	// their diagnostics kept in the order of the files.
	var paths []string
	perCand := make([][]Diagnostic, len(cands))
	states := make([]*fileState, len(cands))
	seen := map[string]bool{}
	for i, c := range cands {
		if c.skip != "" {
			perCand[i] = []Diagnostic{{File: l.rel(c.path), Severity: "warning", Message: c.skip}}
			continue
		}
		seen[c.path] = true
		paths = append(paths, c.path)
		if states[i] = l.files[c.path]; states[i] == nil {
			states[i] = &fileState{}
			l.files[c.path] = states[i]
		}
	}
	forEach(len(cands), func(i int) {
		if states[i] != nil {
			perCand[i] = l.loadFile(cands[i].path, states[i])
		}
	})
	var diags []Diagnostic
	for _, d := range perCand {
		diags = append(diags, d...)
	}
	for p := range l.files {
		if !seen[p] {
			delete(l.files, p)
		}
	}
	snap, more := l.assemble(paths, l.now())
	return snap, append(diags, more...), nil
}

func (l *Loader) rel(p string) string {
	if r, err := filepath.Rel(l.base, p); err == nil {
		return r
	}
	return p
}

// loadFile parses one file when its content changed.
func (l *Loader) loadFile(path string, st *fileState) []Diagnostic {
	rel := l.rel(path)
	data, err := readBounded(path)
	if err != nil {
		what := "; nothing from this file is served until it can be read"
		if len(st.objects()) > 0 {
			what = "; serving its last good version"
		}
		return append([]Diagnostic{{File: rel, Severity: "error", Message: err.Error() + what}}, st.diags...)
	}
	hash := sha256.Sum256(data)
	if st.hash == hash && st.docs != nil {
		return st.diags
	}
	st.hash = hash
	st.docs, st.diags = parseFile(rel, data, st.docs)
	return st.diags
}

// parseFile decodes every document of a file on its own: a broken document
// serves the last good version of the same document (prev) and the others
// are served as they are. A document is "the same" when its kind, namespace
// and name, read leniently, are; when they cannot be read, the document at
// the same position is.
func parseFile(rel string, data []byte, prev []docState) ([]docState, []Diagnostic) {
	docs := splitDocuments(data)
	results := make([]decoded, len(docs))
	out := make([]docState, len(docs))
	claimed := map[string]bool{}
	forEach(len(docs), func(i int) { results[i] = decode(docs[i]) })
	for i, doc := range docs {
		out[i].id = docID(results[i].hdr, doc.index)
		claimed[out[i].id] = true
	}
	lastGood := map[string]*object{}
	for _, d := range prev {
		if d.obj != nil {
			lastGood[d.id] = d.obj
		}
	}
	var diags []Diagnostic
	for i, doc := range docs {
		r := results[i]
		diag := func(sev, msg string, line int) {
			diags = append(diags, Diagnostic{File: rel, Document: doc.index, Line: line, Severity: sev, Message: msg})
		}
		switch {
		case r.err != nil && r.err.warning:
			diag("warning", r.err.msg, r.err.line)
		case r.err != nil:
			good := lastGood[out[i].id]
			if good == nil && i < len(prev) && !claimed[prev[i].id] && isPositional(out[i].id) {
				good = lastGood[prev[i].id] // nameless now: the document that was here
				out[i].id = prev[i].id
			}
			msg := r.err.msg + "; this document is not served until it is fixed"
			if good != nil {
				msg = r.err.msg + "; serving its last good version"
			}
			out[i].obj = good // its document is gone: Locate does not find it
			diag("error", msg, r.err.line)
		default:
			o := newObject(r.obj)
			out[i].obj, out[i].doc = &o, doc
		}
	}
	return out, diags
}

func newObject(mo metav1.Object) object {
	kind := kindOf(mo)
	if namespaced(kind) && mo.GetNamespace() == "" {
		mo.SetNamespace("default")
	}
	return object{key: objKey{kind, mo.GetNamespace(), mo.GetName()}, obj: mo}
}

// docID names a document across edits of its file.
func docID(h header, index int) string {
	if h.kind == "" || h.name == "" {
		return fmt.Sprintf("#%d", index)
	}
	ns := h.namespace
	if ns == "" && namespaced(h.kind) {
		ns = "default"
	}
	return h.kind + " " + ns + "/" + h.name
}

func isPositional(id string) bool { return len(id) > 0 && id[0] == '#' }

func kindOf(v any) string {
	switch v.(type) {
	case *gwv1.GatewayClass:
		return "GatewayClass"
	case *gwv1.Gateway:
		return "Gateway"
	case *gwv1.HTTPRoute:
		return "HTTPRoute"
	case *gwv1.ReferenceGrant:
		return "ReferenceGrant"
	case *gwv1.ListenerSet:
		return "ListenerSet"
	case *corev1.Namespace:
		return "Namespace"
	case *corev1.Service:
		return "Service"
	case *corev1.Secret:
		return "Secret"
	case *discoveryv1.EndpointSlice:
		return "EndpointSlice"
	case *gwv1.BackendTLSPolicy:
		return "BackendTLSPolicy"
	case *corev1.ConfigMap:
		return "ConfigMap"
	case *certificatesv1.ClusterTrustBundle:
		return "ClusterTrustBundle"
	}
	return fmt.Sprintf("%T", v)
}

func namespaced(kind string) bool {
	return kind != "GatewayClass" && kind != "Namespace" && kind != "ClusterTrustBundle"
}

// Parse reads one file's bytes, named name, into a Snapshot as Load would
// (no disk, no last good versions): for tests and fuzzing.
func Parse(name string, data []byte) (*resource.Snapshot, []Diagnostic) {
	l := NewLoader(name)
	l.base = filepath.Dir(name)
	docs, diags := parseFile(name, data, nil)
	l.files[name] = &fileState{docs: docs, diags: diags}
	snap, more := l.assemble([]string{name}, time.Unix(0, 0))
	return snap, append(diags, more...)
}
