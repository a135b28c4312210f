package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const route = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
spec:
  parentRefs: [{name: gw}]
  hostnames: [%s]
`

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDefaultsNamespaceAndApiServerFields(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "sub/route.yml", strings.Replace(route, "%s", `"a.example.com"`, 1))
	l := NewLoader(dir)
	l.now = func() time.Time { return time.Unix(1000, 0) }
	snap, diags, err := l.Load()
	if err != nil || len(diags) != 0 {
		t.Fatalf("Load: %v %v", err, diags)
	}
	if len(snap.HTTPRoutes) != 1 {
		t.Fatalf("want 1 route from a nested .yml file, got %d", len(snap.HTTPRoutes))
	}
	r := snap.HTTPRoutes[0]
	if r.Namespace != "default" || r.Generation != 1 || r.CreationTimestamp.Unix() != 1000 {
		t.Errorf("namespace %q generation %d created %v; want default, 1, 1000", r.Namespace, r.Generation, r.CreationTimestamp.Unix())
	}
	if got := *r.Spec.Rules[0].Matches[0].Path.Value; got != "/" {
		t.Errorf("CRD default rule match path = %q, want /", got)
	}
	if got := string(*r.Spec.ParentRefs[0].Kind); got != "Gateway" {
		t.Errorf("CRD default parentRef kind = %q, want Gateway", got)
	}
}

func TestGenerationBumpsOnlyOnSpecChange(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "r.yaml", strings.Replace(route, "%s", `"a.example.com"`, 1))
	l := NewLoader(dir)
	gen := func() int64 {
		t.Helper()
		snap, _, err := l.Load()
		if err != nil {
			t.Fatal(err)
		}
		return snap.HTTPRoutes[0].Generation
	}
	if g := gen(); g != 1 {
		t.Fatalf("first load generation %d, want 1", g)
	}
	write(t, dir, "r.yaml", "# a comment changes nothing\n"+strings.Replace(route, "%s", `"a.example.com"`, 1))
	if g := gen(); g != 1 {
		t.Errorf("generation %d after a comment-only change, want 1", g)
	}
	write(t, dir, "r.yaml", strings.Replace(route, "%s", `"b.example.com"`, 1))
	if g := gen(); g != 2 {
		t.Errorf("generation %d after a spec change, want 2", g)
	}
}

func TestBadDocumentKeepsItsLastGoodVersionOthersServed(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "r.yaml", strings.Replace(route, "%s", `"a.example.com"`, 1))
	write(t, dir, "other.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	l := NewLoader(dir)
	if _, _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	// The second document has an unknown field on line 12 of the file.
	write(t, dir, "r.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n---\n"+
		strings.Replace(route, "%s", `"b.example.com"`, 1)+"  bogus: true\n")
	snap, diags, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic, got %v", diags)
	}
	d := diags[0]
	if d.File != "r.yaml" || d.Document != 2 || d.Line != 12 || d.Severity != "error" ||
		!strings.Contains(d.Message, `HTTPRoute default/r: unknown field "spec.bogus"`) || !strings.Contains(d.Message, "last good version") {
		t.Errorf("diagnostic %+v does not name file, document, line, object, field and what happens", d)
	}
	if len(snap.HTTPRoutes) != 1 || string(snap.HTTPRoutes[0].Spec.Hostnames[0]) != "a.example.com" {
		t.Errorf("the last good route should still be served: %+v", snap.HTTPRoutes)
	}
	if len(snap.Namespaces) != 1 {
		t.Errorf("the good document of the same file is served, got namespaces %v", snap.Namespaces)
	}
	if len(snap.Services) != 1 {
		t.Errorf("other files keep working, got %d services", len(snap.Services))
	}
}

func TestBadDocumentAtStartCostsOnlyItself(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "all.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s1}\n---\n"+
		"apiVersion: v1\nkind: Service\nmetadata: {name: s2}\nspec: {ports: [{port: x}]}\n---\n"+
		"apiVersion: v1\nkind: Service\nmetadata: {name: s3}\n")
	snap, diags, err := NewLoader(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Services) != 2 || snap.Services[0].Name != "s1" || snap.Services[1].Name != "s3" {
		t.Errorf("want s1 and s3 served, got %v", snap.Services)
	}
	if len(diags) != 1 || diags[0].Line != 8 || !strings.Contains(diags[0].Message, "Service default/s2: spec.ports[0].port: must be a whole number, not a string") ||
		!strings.Contains(diags[0].Message, "not served until it is fixed") {
		t.Errorf("want one error on line 8 naming spec.ports[0].port, got %v", diags)
	}
}

func TestNamelessBrokenDocumentKeepsTheOneAtItsPosition(t *testing.T) {
	dir := t.TempDir()
	good := "apiVersion: v1\nkind: Service\nmetadata: {name: s1}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s2}\n"
	write(t, dir, "all.yaml", good)
	l := NewLoader(dir)
	if _, _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	// A syntax error: the second document cannot even be named.
	write(t, dir, "all.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s1}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: [s2\n")
	snap, diags, _ := l.Load()
	if len(snap.Services) != 2 || snap.Services[1].Name != "s2" {
		t.Errorf("want s1 and the last good s2, got %v", snap.Services)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Message, "serving its last good version") {
		t.Errorf("want one error keeping the last good version, got %v", diags)
	}
	// Broken again, differently: still the last good version.
	write(t, dir, "all.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s1}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s2}\nspec: 3\n")
	snap, _, _ = l.Load()
	if len(snap.Services) != 2 {
		t.Errorf("want s1 and the last good s2 after a second bad edit, got %v", snap.Services)
	}
	// Removing the document removes the object.
	write(t, dir, "all.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s1}\n")
	snap, _, _ = l.Load()
	if len(snap.Services) != 1 {
		t.Errorf("want only s1 once s2's document is gone, got %v", snap.Services)
	}
}

func TestYAMLSyntaxErrorGivesFileLine(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n")
	snap, diags, err := NewLoader(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].String(), "bad.yaml: document 2 (line 8)") ||
		!strings.Contains(diags[0].Message, "line 8") || !strings.Contains(diags[0].Message, "not served until it is fixed") {
		t.Errorf("want the file, document and file line of the YAML error, got %v", diags)
	}
	if len(snap.Services) != 1 {
		t.Errorf("the good document is served, got %v", snap.Services)
	}
}

func TestDuplicateObjectFirstFileWins(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", strings.Replace(route, "%s", `"a.example.com"`, 1))
	write(t, dir, "b.yaml", strings.Replace(route, "%s", `"b.example.com"`, 1))
	snap, diags, _ := NewLoader(dir).Load()
	if len(snap.HTTPRoutes) != 1 || string(snap.HTTPRoutes[0].Spec.Hostnames[0]) != "a.example.com" {
		t.Errorf("want the copy from a.yaml, got %+v", snap.HTTPRoutes)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Message, "also defined in a.yaml") {
		t.Errorf("want a duplicate warning, got %v", diags)
	}
}
