package crdvalidation

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCRDsMatchModule: the embedded CRDs are byte for byte the
// experimental-channel CRDs of the gateway-api module in go.mod, and there is
// one for every kind validated. Run hack/update-crds.sh when it fails.
func TestCRDsMatchModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		t.Fatalf("go list -m sigs.k8s.io/gateway-api: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "experimental")
	embedded, err := crdFiles.ReadDir("crds")
	if err != nil {
		t.Fatal(err)
	}
	if len(embedded) != len(crdFile) {
		t.Errorf("%d embedded CRDs, want one per kind (%d)", len(embedded), len(crdFile))
	}
	for kind, plural := range crdFile {
		name := Group + "_" + plural + ".yaml"
		got, err := crdFiles.ReadFile("crds/" + name)
		if err != nil {
			t.Errorf("%s: %v (run hack/update-crds.sh)", kind, err)
			continue
		}
		want, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("crds/%s differs from %s in the module: run hack/update-crds.sh", name, src)
		}
	}
}
