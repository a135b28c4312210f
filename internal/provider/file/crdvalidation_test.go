package file

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"portico.dev/portico/internal/crdvalidation"
	"portico.dev/portico/internal/resource"
)

// TestLoadRefusesWhatTheCRDRefuses: a document the API server would refuse
// is not stored and gets an error naming the file, the document, the object
// and the API server's message at the line of the field; the other files
// are kept.
func TestLoadRefusesWhatTheCRDRefuses(t *testing.T) {
	dir := t.TempDir()
	gw := func(name, port string) string {
		return "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: " + name + "}\n" +
			"spec:\n  gatewayClassName: portico\n  listeners: [{name: http, protocol: HTTP, port: " + port + "}]\n"
	}
	write(t, dir, "bad.yaml", gw("bad", "70000"))
	write(t, dir, "good.yaml", gw("good", "8080"))
	snap, diags, err := NewLoader(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Gateways) != 1 || snap.Gateways[0].Name != "good" {
		t.Errorf("gateways %v, want only default/good", names(snap))
	}
	want := Diagnostic{File: "bad.yaml", Document: 1, Line: 6, Severity: "error", Message: "Gateway default/bad: spec.listeners[0].port: Invalid value: 70000: " +
		"spec.listeners[0].port in body should be less than or equal to 65535; this document is not served until it is fixed"}
	if len(diags) != 1 || diags[0] != want {
		t.Errorf("diagnostics %+v\nwant [%+v]", diags, want)
	}
}

func names(s *resource.Snapshot) []string {
	var out []string
	for _, g := range s.Gateways {
		out = append(out, g.Namespace+"/"+g.Name)
	}
	return out
}

// TestDefaultedObjectsValidate: the objects the loader stores, with the
// hand-written defaults of internal/resource applied, still pass the CRD
// validation (the defaults are ones the schema allows), for every golden
// input of the control plane.
func TestDefaultedObjectsValidate(t *testing.T) {
	inputs, err := filepath.Glob("../../controlplane/testdata/*/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	checked := 0
	for _, in := range inputs {
		dir := t.TempDir()
		for name, from := range map[string]string{"case.yaml": in, "_base.yaml": filepath.Join(filepath.Dir(in), "_base.yaml")} {
			if b, err := os.ReadFile(from); err == nil {
				write(t, dir, name, string(b))
			}
		}
		snap, _, err := NewLoader(dir).Load()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range gatewayAPIObjects(snap) {
			js, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			tm := o.(runtime.Object).GetObjectKind().GroupVersionKind()
			if !crdvalidation.Known(tm.GroupVersion().String(), tm.Kind) {
				t.Fatalf("%s: %s %s/%s has no CRD to validate with (apiVersion %q)", in, tm.Kind, o.GetNamespace(), o.GetName(), tm.GroupVersion())
			}
			if err := crdvalidation.Validate(tm.GroupVersion().String(), tm.Kind, js); err != nil {
				t.Errorf("%s: defaulted %v", in, err)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Errorf("only %d objects checked", checked)
	}
}

func gatewayAPIObjects(s *resource.Snapshot) []metav1.Object {
	var out []metav1.Object
	out = appendObjects(out, s.GatewayClasses)
	out = appendObjects(out, s.Gateways)
	out = appendObjects(out, s.ListenerSets)
	out = appendObjects(out, s.HTTPRoutes)
	out = appendObjects(out, s.ReferenceGrants)
	return appendObjects(out, s.BackendTLSPolicies)
}

func appendObjects[T metav1.Object](out []metav1.Object, objs []T) []metav1.Object {
	for _, o := range objs {
		out = append(out, o)
	}
	return out
}
