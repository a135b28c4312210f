package file

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/resource"
)

// Diagnostic is a problem in the input that has no object status to carry
// it: a file that does not parse, an unknown kind, a duplicate object.
type Diagnostic struct {
	File     string `json:"file"`
	Document int    `json:"document,omitempty"`
	Line     int    `json:"line,omitempty"`
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

// Loader reads a directory into Snapshots. It remembers, across loads, the
// last good objects of each file and the identity of each object (its
// generation and creation time), so it is meant to be reused.
type Loader struct {
	dir   string
	now   func() time.Time
	files map[string]*fileState
	ids   map[objKey]*identity
}

type fileState struct {
	hash     [32]byte
	objects  []object // last good
	warnings []Diagnostic
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

// NewLoader returns a Loader for dir.
func NewLoader(dir string) *Loader {
	return &Loader{dir: dir, now: time.Now, files: map[string]*fileState{}, ids: map[objKey]*identity{}}
}

// Load reads the directory. A file that fails to parse contributes the
// objects of its last good version and an error Diagnostic. Load fails only
// when the directory itself cannot be read.
func (l *Loader) Load() (*resource.Snapshot, []Diagnostic, error) {
	paths, err := yamlFiles(l.dir)
	if err != nil {
		return nil, nil, err
	}
	var diags []Diagnostic
	seenFiles := map[string]bool{}
	for _, p := range paths {
		seenFiles[p] = true
		diags = append(diags, l.loadFile(p)...)
	}
	for p := range l.files {
		if !seenFiles[p] {
			delete(l.files, p)
		}
	}
	snap, more := l.assemble(paths, l.now())
	return snap, append(diags, more...), nil
}

func yamlFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // editor and VCS metadata
		}
		ext := filepath.Ext(p)
		if !d.IsDir() && (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading --config directory %s: %w", dir, err)
	}
	slices.Sort(out)
	return out, nil
}

// loadFile parses one file when its content changed, keeping the previous
// objects if it does not parse.
func (l *Loader) loadFile(path string) []Diagnostic {
	rel, _ := filepath.Rel(l.dir, path)
	data, err := os.ReadFile(path)
	st := l.files[path]
	if err != nil {
		d := Diagnostic{File: rel, Severity: "error", Message: err.Error() + "; serving its last good version"}
		if st == nil {
			st = &fileState{}
			l.files[path] = st
		}
		return append([]Diagnostic{d}, st.warnings...)
	}
	hash := sha256.Sum256(data)
	if st != nil && st.hash == hash {
		return st.warnings
	}
	objs, warnings, errs := parseFile(rel, data)
	if len(errs) > 0 {
		if st == nil {
			st = &fileState{}
			l.files[path] = st
		}
		for i := range errs {
			if st.objects != nil {
				errs[i].Message += "; serving the file's last good version"
			} else {
				errs[i].Message += "; nothing from this file is served until it is fixed"
			}
		}
		return append(errs, warnings...)
	}
	l.files[path] = &fileState{hash: hash, objects: objs, warnings: warnings}
	return warnings
}

// parseFile decodes every document of a file. Any bad document makes the
// whole file bad, so that a half-edited file never serves half of itself.
func parseFile(rel string, data []byte) (objs []object, warnings, errs []Diagnostic) {
	for _, doc := range splitDocuments(data) {
		v, skipped, err := decode(doc)
		switch {
		case err != nil:
			errs = append(errs, Diagnostic{File: rel, Document: doc.index, Line: doc.line, Severity: "error", Message: err.(*decodeError).msg})
			continue
		case skipped != "":
			warnings = append(warnings, Diagnostic{File: rel, Document: doc.index, Line: doc.line, Severity: "warning",
				Message: fmt.Sprintf("%s is not a kind portico reads; ignored", skipped)})
			continue
		}
		mo := v.(metav1.Object)
		kind := kindOf(v)
		if mo.GetName() == "" {
			errs = append(errs, Diagnostic{File: rel, Document: doc.index, Line: doc.line, Severity: "error",
				Message: kind + ": metadata.name is required"})
			continue
		}
		if namespaced(kind) && mo.GetNamespace() == "" {
			mo.SetNamespace("default")
		}
		objs = append(objs, object{key: objKey{kind, mo.GetNamespace(), mo.GetName()}, obj: mo})
	}
	return objs, warnings, errs
}

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
