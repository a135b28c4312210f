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

func TestBadFileKeepsLastGoodVersionAndSaysWhere(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "r.yaml", strings.Replace(route, "%s", `"a.example.com"`, 1))
	write(t, dir, "other.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	l := NewLoader(dir)
	if _, _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	// The second document has an unknown field on line 9 of the file.
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
	if d.File != "r.yaml" || d.Document != 2 || d.Line != 5 || d.Severity != "error" ||
		!strings.Contains(d.Message, `unknown field "spec.bogus"`) || !strings.Contains(d.Message, "last good version") {
		t.Errorf("diagnostic %+v does not name file, document, line, field and what happens", d)
	}
	if len(snap.HTTPRoutes) != 1 || string(snap.HTTPRoutes[0].Spec.Hostnames[0]) != "a.example.com" {
		t.Errorf("the last good route should still be served: %+v", snap.HTTPRoutes)
	}
	if len(snap.Namespaces) != 0 {
		t.Errorf("nothing of a bad file's new version may be served, got namespaces %v", snap.Namespaces)
	}
	if len(snap.Services) != 1 {
		t.Errorf("other files keep working, got %d services", len(snap.Services))
	}
}

func TestYAMLSyntaxErrorGivesFileLine(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n")
	_, diags, err := NewLoader(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].String(), "bad.yaml: document 2 (line 5)") ||
		!strings.Contains(diags[0].Message, "line 8") || !strings.Contains(diags[0].Message, "nothing from this file") {
		t.Errorf("want the file, document and file line of the YAML error, got %v", diags)
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
