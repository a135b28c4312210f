package controlplane

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/provider/file"
	"portico.dev/portico/internal/status"
)

var update = flag.Bool("update", false, "rewrite the golden files and delete stale ones")

// TestGolden runs every testdata/<area>/<case>.in.yaml through the file
// loader and Compute, and compares the IR with <case>.ir.yaml and the status
// with <case>.status.yaml. A testdata/<area>/_base.yaml is loaded with every
// case of its area (the conformance suite's base manifests). Input problems
// are part of the golden as <case>.diagnostics.txt when there are any.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs found: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(in, ".in.yaml")
		t.Run(strings.TrimPrefix(name, "testdata/"), func(t *testing.T) {
			ir, st, diags := runCase(t, in)
			compareGolden(t, name+".ir.yaml", ir)
			compareGolden(t, name+".status.yaml", st)
			compareGolden(t, name+".diagnostics.txt", diags)
		})
	}
	if *update {
		pruneStale(t)
	}
}

func runCase(t *testing.T, in string) (irYAML, statusYAML, diags []byte) {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, in, filepath.Join(dir, "case.yaml"))
	if base := filepath.Join(filepath.Dir(in), "_base.yaml"); fileExists(base) {
		copyFile(t, base, filepath.Join(dir, "_base.yaml"))
	}
	// <case>.setup.yaml: what the conformance suite creates at run time
	// for the test (certificates, CA bundles), when the case needs it.
	if setup := strings.TrimSuffix(in, ".in.yaml") + ".setup.yaml"; fileExists(setup) {
		copyFile(t, setup, filepath.Join(dir, "_setup.yaml"))
	}
	snap, ds, err := file.NewLoader(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	// The conformance cases read as a cluster would: one proxy per Gateway,
	// no loopback endpoints, no status for unknown parents.
	cluster := filepath.Base(filepath.Dir(in)) == "conformance"
	snap.Standalone = !cluster
	res := Compute(snap, graph.Options{BindAddress: "0.0.0.0", SharedSockets: !cluster})
	objs := ownObjects(t, in, res.Status(status.Standalone{Answer: &ir.Ack{}}, nil, time.Unix(0, 0)))
	zeroTimes(objs)
	irYAML = mustYAML(t, res.Config.Redacted())
	statusYAML = mustYAML(t, objs)
	var b bytes.Buffer
	for _, d := range ds {
		if d.File == "_base.yaml" {
			continue // the same for every case of the area
		}
		b.WriteString(d.String() + "\n")
	}
	for _, w := range res.Graph.Warnings {
		b.WriteString("warning: " + w + "\n")
	}
	return irYAML, statusYAML, b.Bytes()
}

// ownObjects keeps the status of the objects the case file defines, leaving
// out those of the area's _base.yaml, which every case shares.
func ownObjects(t *testing.T, in string, objs []status.Object) []status.Object {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, in, filepath.Join(dir, "case.yaml"))
	snap, _, err := file.NewLoader(dir).Load()
	if err != nil {
		t.Fatal(err)
	}
	own := map[status.Key]bool{}
	for _, o := range snap.GatewayClasses {
		own[status.Key{Kind: "GatewayClass", Name: o.Name}] = true
	}
	for _, o := range snap.Gateways {
		own[status.Key{Kind: "Gateway", Namespace: o.Namespace, Name: o.Name}] = true
	}
	for _, o := range snap.ListenerSets {
		own[status.Key{Kind: "ListenerSet", Namespace: o.Namespace, Name: o.Name}] = true
	}
	for _, o := range snap.HTTPRoutes {
		own[status.Key{Kind: "HTTPRoute", Namespace: o.Namespace, Name: o.Name}] = true
	}
	for _, o := range snap.BackendTLSPolicies {
		own[status.Key{Kind: "BackendTLSPolicy", Namespace: o.Namespace, Name: o.Name}] = true
	}
	out := []status.Object{}
	for _, o := range objs {
		if own[o.Key()] {
			out = append(out, o)
		}
	}
	return out
}

// zeroTimes pins lastTransitionTime, which says when, not what.
func zeroTimes(objs []status.Object) {
	epoch := metav1.NewTime(time.Unix(0, 0).UTC())
	zero := func(cs []metav1.Condition) {
		for i := range cs {
			cs[i].LastTransitionTime = epoch
		}
	}
	for _, o := range objs {
		switch st := o.Status.(type) {
		case *gwv1.GatewayClassStatus:
			zero(st.Conditions)
		case *gwv1.GatewayStatus:
			zero(st.Conditions)
			for i := range st.Listeners {
				zero(st.Listeners[i].Conditions)
			}
		case *gwv1.ListenerSetStatus:
			zero(st.Conditions)
			for i := range st.Listeners {
				zero(st.Listeners[i].Conditions)
			}
		case *gwv1.HTTPRouteStatus:
			for i := range st.Parents {
				zero(st.Parents[i].Conditions)
			}
		case *gwv1.PolicyStatus:
			for i := range st.Ancestors {
				zero(st.Ancestors[i].Conditions)
			}
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if len(got) == 0 {
			_ = os.Remove(path)
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) && len(got) == 0 {
		return
	}
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/controlplane -run Golden -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, run with -update:\n%s", path, diff)
	}
}

func pruneStale(t *testing.T) {
	outs, _ := filepath.Glob("testdata/*/*.*")
	for _, o := range outs {
		for _, suffix := range []string{".ir.yaml", ".status.yaml", ".diagnostics.txt"} {
			if base, ok := strings.CutSuffix(o, suffix); ok && !fileExists(base+".in.yaml") {
				t.Logf("removing stale golden %s", o)
				_ = os.Remove(o)
			}
		}
	}
}

func mustYAML(t *testing.T, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
