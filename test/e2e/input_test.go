package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConfigDirDeletedAndRecreated deletes the --config directory under a
// running gateway and recreates it with a new route: the new route is
// served, and later edits too (the watcher used to stop seeing anything).
func TestConfigDirDeletedAndRecreated(t *testing.T) {
	dir, gw, p := reloadSetup(t, []string{"echo-a"}, map[string]string{
		"one.yaml": routeYAML("one", "gw", nil, "/one", nil, to("echo-a")),
	})
	client := newClient()
	eventuallyPod(t, client, gw, "/one", "echo-a", readyTimeout)
	saved := map[string]string{}
	for _, name := range []string{"gateway.yaml", "backends.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		saved[name] = string(b)
	}
	// Renamed away first, so that no reload sees it half deleted.
	if err := os.Rename(dir, dir+".deleted"); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir + ".deleted"); err != nil {
		t.Fatal(err)
	}
	eventually(t, reloadTimeout, "the deleted directory to be reported", func() error {
		if !strings.Contains(p.output.String(), "still serving the previous configuration") {
			return fmt.Errorf("no log line about the missing directory")
		}
		return nil
	})
	eventuallyPod(t, client, gw, "/one", "echo-a", reloadTimeout) // still served
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range saved {
		writeFile(t, dir, name, content)
	}
	writeFile(t, dir, "two.yaml", routeYAML("two", "gw", nil, "/two", nil, to("echo-a")))
	eventuallyPod(t, client, gw, "/two", "echo-a", reloadTimeout)
	writeFile(t, dir, "three.yaml", routeYAML("three", "gw", nil, "/three", nil, to("echo-a")))
	eventuallyPod(t, client, gw, "/three", "echo-a", reloadTimeout)
}

// TestConfigMapSymlinkSwap lays the input out as kubelet projects a
// ConfigMap volume and updates it the same way (..data swapped by rename).
func TestConfigMapSymlinkSwap(t *testing.T) {
	b := startBackend(t, "echo-a")
	port := freePort(t)
	dir := t.TempDir()
	project := func(version string, files map[string]string) {
		t.Helper()
		vdir := filepath.Join(dir, "..2026_12_08_"+version)
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(vdir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, name)
			if _, err := os.Lstat(link); err != nil {
				if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
					t.Fatal(err)
				}
			}
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(vdir), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"gateway.yaml":  gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}),
		"backends.yaml": servicesYAML(b),
		"route.yaml":    routeYAML("r", "gw", nil, "/v1", nil, to("echo-a")),
	}
	project("01", files)
	startPortico(t, dir)
	gw := fmt.Sprintf("127.0.0.1:%d", port)
	client := newClient()
	eventuallyPod(t, client, gw, "/v1", "echo-a", readyTimeout)
	files["route.yaml"] = routeYAML("r", "gw", nil, "/v2", nil, to("echo-a"))
	project("02", files)
	_ = os.RemoveAll(filepath.Join(dir, "..2026_12_08_01"))
	eventuallyPod(t, client, gw, "/v2", "echo-a", reloadTimeout)
	files["route.yaml"] = routeYAML("r", "gw", nil, "/v3", nil, to("echo-a"))
	project("03", files)
	eventuallyPod(t, client, gw, "/v3", "echo-a", reloadTimeout)
}

// TestFIFOInConfigDir: a named pipe named like YAML used to hang `portico
// status` and freeze reloads; it is now skipped with a warning.
func TestFIFOInConfigDir(t *testing.T) {
	dir, gw, p := reloadSetup(t, []string{"echo-a"}, nil)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "one.yaml", routeYAML("one", "gw", nil, "/one", nil, to("echo-a")))
	eventuallyPod(t, newClient(), gw, "/one", "echo-a", reloadTimeout)
	eventually(t, reloadTimeout, "a warning about pipe.yaml", func() error {
		if !strings.Contains(p.output.String(), "pipe.yaml: a named pipe (FIFO), not a regular file; skipped") {
			return fmt.Errorf("the running gateway does not warn about pipe.yaml")
		}
		return nil
	})
	start := time.Now()
	stdout, stderr, code := runCLI(t, "status", "--config", dir)
	if code != 0 || !strings.Contains(stderr, "pipe.yaml") || !strings.Contains(stderr, "named pipe") ||
		!strings.Contains(stdout, "HTTPRoute") {
		t.Errorf("status exit %d after %v; stderr:\n%s\nstdout:\n%s", code, time.Since(start), stderr, stdout)
	}
}

// TestBrokenDocumentAtStart: one bad document of a multi-document file
// costs only itself when the gateway starts.
func TestBrokenDocumentAtStart(t *testing.T) {
	routes := routeYAML("one", "gw", nil, "/one", nil, to("echo-a")) + "\n---\n" +
		"apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: bad}\nspec:\n  rulez: []\n" + "\n---\n" +
		routeYAML("three", "gw", nil, "/three", nil, to("echo-a"))
	dir, gw, p := reloadSetup(t, []string{"echo-a"}, map[string]string{"routes.yaml": routes})
	client := newClient()
	eventuallyPod(t, client, gw, "/one", "echo-a", readyTimeout)
	eventuallyPod(t, client, gw, "/three", "echo-a", readyTimeout)
	eventually(t, reloadTimeout, "the bad document reported with its object, field and line", func() error {
		if !strings.Contains(p.output.String(), `routes.yaml: document 2 (line 22): HTTPRoute default/bad: unknown field \"spec.rulez\"`) {
			return fmt.Errorf("not in the output")
		}
		return nil
	})
	// A single file works as --config too.
	stdout, _, code := runCLI(t, "status", "--config", filepath.Join(dir, "routes.yaml"))
	if code != 1 || !strings.Contains(stdout, "default/one") || !strings.Contains(stdout, "default/three") {
		t.Errorf("status on one file: exit %d (want 1 for the bad document), stdout:\n%s", code, stdout)
	}
}

// TestConfigSingleFile: `portico run --config FILE` serves that file only
// and reloads it when it is replaced (as editors save).
func TestConfigSingleFile(t *testing.T) {
	b := startBackend(t, "echo-a")
	port := freePort(t)
	dir := t.TempDir()
	head := gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}) + "\n---\n" + servicesYAML(b) + "\n---\n"
	writeFile(t, dir, "all.yaml", head+routeYAML("r", "gw", nil, "/one", nil, to("echo-a")))
	writeFile(t, dir, "other.yaml", routeYAML("other", "gw", nil, "/other", nil, to("echo-a")))
	startPortico(t, filepath.Join(dir, "all.yaml"))
	gw := fmt.Sprintf("127.0.0.1:%d", port)
	client := newClient()
	eventuallyPod(t, client, gw, "/one", "echo-a", readyTimeout)
	writeFile(t, dir, "all.yaml", head+routeYAML("r", "gw", nil, "/two", nil, to("echo-a")))
	eventuallyPod(t, client, gw, "/two", "echo-a", reloadTimeout)
	if ans, err := do(client, request(gw, "reload.example.com", "/other")); err != nil || ans.Status != 404 {
		t.Errorf("/other is in a file --config does not name; want 404, got %+v %v", ans, err)
	}
}
