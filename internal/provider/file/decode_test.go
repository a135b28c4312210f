package file

import (
	"strings"
	"testing"
)

// TestDecodeErrorsNameFieldAndLine is the table of decode errors: each names
// the object, the field path in YAML terms (no Go type names) and the file
// line of the field. The documents start on line 3 of their file.
func TestDecodeErrorsNameFieldAndLine(t *testing.T) {
	cases := []struct {
		name, doc string
		line      int
		warning   bool
		want      []string
	}{
		{"filter of the wrong type", `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /}}]
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: "X-A: b"
`, 12, false, []string{"HTTPRoute ns/r: spec.rules[1].filters[0].requestHeaderModifier: must be a mapping", "not a string"}},
		{"unknown field in a list item", `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs: [{name: s, port: 80}]
  - matchs: []
`, 9, false, []string{`HTTPRoute default/r: unknown field "spec.rules[1].matchs"`}},
		{"port of the wrong type", `apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports:
  - port: "80"
`, 9, false, []string{"Service default/s: spec.ports[0].port: must be a whole number, not a string"}},
		{"weight of the wrong type", `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRefs:
    - name: s
      weight: [1]
`, 10, false, []string{"spec.rules[0].backendRefs[0].weight: must be a whole number, not a list"}},
		{"port out of range", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 70000000000\n",
			8, false, []string{"spec.ports[0].port: must be a whole number from -2147483648 to 2147483647, not 70000000000"}},
		{"weight not whole", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n  - backendRefs: [{name: s, weight: 1.5}]\n",
			8, false, []string{"spec.rules[0].backendRefs[0].weight: must be a whole number from -2147483648 to 2147483647, not 1.5"}},
		{"older version", "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: HTTPRoute\nmetadata: {name: r}\n",
			4, true, []string{"HTTPRoute default/r: apiVersion gateway.networking.k8s.io/v1alpha2 is not a version portico reads", "use apiVersion: gateway.networking.k8s.io/v1"}},
		{"kind not implemented", "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: r}\n",
			4, true, []string{"portico does not implement gateway.networking.k8s.io/v1 GRPCRoute"}},
		{"foreign kind", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
			4, true, []string{"apps/v1 Deployment is not a kind portico reads"}},
		{"no apiVersion", "kind: Gateway\nmetadata: {name: g}\n", 3, false, []string{"Gateway: apiVersion is required; use apiVersion: gateway.networking.k8s.io/v1"}},
		{"no name", "apiVersion: v1\nkind: Service\nmetadata: {}\n", 4, false, []string{"Service: metadata.name is required"}},
		{"a list, not a mapping", "- a\n- b\n", 3, false, []string{"must be a mapping with apiVersion, kind and metadata; this one is a list"}},
		{"duplicate key", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {}\nspec: {}\n", 7, false, []string{"Service default/s: not valid YAML", "already"}},
		{"kind not a string", "apiVersion: v1\nkind: [Service]\nmetadata: {name: s}\n", 4, false, []string{"kind must be a string"}},
		{"name not a string", "apiVersion: v1\nkind: Service\nmetadata:\n  name: {a: b}\n", 6, false, []string{"Service: metadata.name must be a string"}},
		{"typemeta of the wrong type", "apiVersion: v1\nkind: Service\nmetadata: [a]\n", 5, false, []string{"Service: metadata: must be a mapping", "not a list"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := "# header\n---\n" + c.doc
			docs, diags := parseFile("f.yaml", []byte(data), nil)
			if len(docs) != 1 || len(diags) != 1 {
				t.Fatalf("want one document and one diagnostic, got %d, %v", len(docs), diags)
			}
			d := diags[0]
			if d.Line != c.line || (d.Severity == "warning") != c.warning {
				t.Errorf("line %d severity %s, want line %d warning=%v: %s", d.Line, d.Severity, c.line, c.warning, d.Message)
			}
			for _, w := range c.want {
				if !strings.Contains(d.Message, w) {
					t.Errorf("message %q lacks %q", d.Message, w)
				}
			}
			for _, goName := range []string{"v1.", "Go struct", "Go value", "json:"} {
				if strings.Contains(d.Message, goName) {
					t.Errorf("message %q speaks Go (%q)", d.Message, goName)
				}
			}
		})
	}
}

func TestLocateFindsTheFieldOfAWarning(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "gw.yaml", "# comment\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: ns}\nspec:\n"+
		"  gatewayClassName: other\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n  - name: https\n    port: 443\n    protocol: HTTPS\n    tls: {certificateRefs: [{name: missing}]}\n")
	l := NewLoader(dir)
	if _, _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	for w, want := range map[string]string{
		`Gateway ns/gw: spec.gatewayClassName "other": no GatewayClass`:            "gw.yaml: document 1 (line 7): Gateway ns/gw",
		"Gateway ns/gw: spec.listeners[https].tls.certificateRefs: needs a Secret": "gw.yaml: document 1 (line 15): Gateway ns/gw",
		"Gateway ns/other: spec.gatewayClassName: x":                               "Gateway ns/other",
	} {
		if got := l.Locate(w); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, w) {
			t.Errorf("Locate(%q) = %q, want the prefix %q", w, got, want)
		}
	}
}
