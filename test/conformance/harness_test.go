package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portico.dev/portico/test/conformance/internal/box"
)

// The harness is configured by the environment (hack/conformance.sh sets
// it); paths default to the repository's bin/ and out/.
const (
	envEnable   = "PORTICO_CONFORMANCE"     // "1" runs the tests
	envKubeDir  = "PORTICO_KUBE_DIR"        // kube-apiserver, kube-controller-manager, etcd
	envPortico  = "PORTICO_BINARY"          // default <repo>/bin/portico
	envRunDir   = "PORTICO_RUN_DIR"         // default <repo>/out/conformance (logs, PKI, etcd)
	envCRDDir   = "PORTICO_CRD_DIR"         // default: gateway-api module's config/crd/experimental
	envReport   = "PORTICO_REPORT"          // default <repo>/out/conformance-report.yaml
	envVersion  = "PORTICO_VERSION"         // implementation version for the report
	envCtlArgs  = "PORTICO_CONTROLLER_ARGS" // extra `portico controller` arguments, space separated
	envKeepOpen = "PORTICO_BOX_HOLD"        // a duration: keep the box up after the test, to poke at it
)

// requireEnabled skips unless PORTICO_CONFORMANCE=1.
func requireEnabled(t *testing.T) {
	t.Helper()
	if os.Getenv(envEnable) != "1" {
		t.Skipf("set %s=1 to run (use `make conformance` or `make conformance-smoke`: they build the "+
			"binaries and run the test inside a private network namespace)", envEnable)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func porticoBinary(t *testing.T) string {
	return envOr(envPortico, filepath.Join(repoRoot(t), "bin", "portico"))
}

// crdDir finds the experimental CRDs of the gateway-api module this test
// is built with.
func crdDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv(envCRDDir); d != "" {
		return d
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		t.Fatalf("find the gateway-api module (set %s): %v", envCRDDir, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "experimental")
}

// startBox starts the box for a test and stops it when the test ends
// (registered first, so it runs after every other cleanup).
func startBox(t *testing.T, runSubdir string) *box.Box {
	t.Helper()
	kubeDir := os.Getenv(envKubeDir)
	if kubeDir == "" {
		t.Fatalf("%s is not set: it names the directory with kube-apiserver, kube-controller-manager and etcd "+
			"(hack/conformance-build-kube.sh prints it)", envKubeDir)
	}
	runDir := filepath.Join(envOr(envRunDir, filepath.Join(repoRoot(t), "out", "conformance")), runSubdir)
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := box.Start(ctx, box.Options{
		Config: box.Config{
			KubeDir: kubeDir,
			RunDir:  runDir,
			Logf:    func(f string, a ...any) { t.Logf(f, a...) },
		},
		CRDDir:        crdDir(t),
		PorticoBinary: porticoBinary(t),
	})
	if err != nil {
		cancel()
		t.Fatalf("start the box: %v (logs in %s)", err, runDir)
	}
	t.Logf("box: up in %s; logs in %s; kubeconfig %s", time.Since(start).Round(time.Millisecond), runDir, b.PKI.Kubeconfig)
	t.Cleanup(func() {
		if d, err := time.ParseDuration(os.Getenv(envKeepOpen)); err == nil && d > 0 {
			t.Logf("box: %s is set: holding the box for %s (KUBECONFIG=%s)", envKeepOpen, d, b.PKI.Kubeconfig)
			time.Sleep(d)
		}
		b.Stop()
		cancel()
	})
	return b
}

// pidsGone fails the test for each PID that still exists.
func pidsGone(t *testing.T, pids map[string]int) {
	t.Helper()
	for name, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			t.Errorf("%s (pid %d) is still there after the box stopped: %s", name, pid, strings.TrimSpace(string(stat)))
		}
	}
}
