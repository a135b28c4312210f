package file

import (
	"os"
	"path/filepath"
	"testing"
)

// addGoldenSeeds seeds f with the golden inputs of internal/controlplane
// and a few hand-written documents.
func addGoldenSeeds(f *testing.F) {
	paths, _ := filepath.Glob("../../controlplane/testdata/*/*.in.yaml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "---\n---\n", "- a\n", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: x}]}\n",
		"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules: [{filters: [{requestHeaderModifier: a}]}]\n",
		"kind: [a]\napiVersion: {b: c}\n", "a: &x [*x]\n", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseFile: any bytes give objects and diagnostics, never a panic,
// and every document diagnostic carries a line inside the file.
func FuzzParseFile(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		docs, diags := parseFile("f.yaml", data, nil)
		lines := 1
		for _, b := range data {
			if b == '\n' {
				lines++
			}
		}
		for _, d := range diags {
			if d.Document > 0 && (d.Line < 1 || d.Line > lines) {
				t.Errorf("diagnostic line %d outside the file's %d lines: %s", d.Line, lines, d)
			}
			if d.Message == "" {
				t.Errorf("empty diagnostic message: %+v", d)
			}
		}
		// A second version of the file with the first as its last good one.
		_, _ = parseFile("f.yaml", append([]byte("x: [\n---\n"), data...), docs)
	})
}
