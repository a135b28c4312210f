package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestQuickstartManifestsAreStrict decodes every document of
// examples/quickstart strictly into its API type, so a typo in a field name
// fails here rather than confusing a reader of the demo.
func TestQuickstartManifestsAreStrict(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(moduleRoot(t), "examples", "quickstart", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/quickstart/*.yaml (%v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := decodeStrict(data); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}

// TestQuickstart runs examples/quickstart (the `make demo` setup) with its
// ports moved to free ones, and checks what the demo tells users to try.
func TestQuickstart(t *testing.T) {
	v1, v2 := startBackend(t, "echo-v1"), startBackend(t, "echo-v2")
	port := freePort(t)
	replacer := strings.NewReplacer(
		"port: 8080", "port: "+strconv.Itoa(port),
		"3001", strconv.Itoa(v1.Port),
		"3002", strconv.Itoa(v2.Port),
	)
	src := filepath.Join(moduleRoot(t), "examples", "quickstart")
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s/*.yaml (%v)", src, err)
	}
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, filepath.Base(f), replacer.Replace(string(data)))
	}
	startPortico(t, dir)
	gw := "127.0.0.1:" + strconv.Itoa(port)
	client := newClient()

	eventually(t, readyTimeout, "/hello from echo-v1", func() error {
		ans, err := do(client, request(gw, "", "/hello"))
		if err != nil {
			return err
		}
		return expectPod(ans, "echo-v1")
	})

	t.Run("header match", func(t *testing.T) {
		ans, err := do(client, request(gw, "", "/hello", "X-Canary: true"))
		if err != nil {
			t.Fatal(err)
		}
		if err := expectPod(ans, "echo-v2"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("split 80/20", func(t *testing.T) {
		const n = 200
		count := map[string]int{}
		for range n {
			ans, err := do(client, request(gw, "", "/split"))
			if err != nil {
				t.Fatal(err)
			}
			if ans.Status != http.StatusOK {
				t.Fatalf("/split: status %d", ans.Status)
			}
			count[ans.Echo.Pod]++
		}
		// 20% of 200 is 40; the bounds leave room for chance (several
		// standard deviations) but catch an even or missing split.
		if v2 := count["echo-v2"]; v2 < 15 || v2 > 70 || count["echo-v1"]+v2 != n {
			t.Errorf("/split answers by backend %v, want about 160 echo-v1 and 40 echo-v2", count)
		}
	})

	t.Run("request header modifier", func(t *testing.T) {
		ans, err := do(client, request(gw, "", "/headers", "X-Demo: mine", "User-Agent: e2e"))
		if err != nil {
			t.Fatal(err)
		}
		if err := expectPod(ans, "echo-v1"); err != nil {
			t.Fatal(err)
		}
		h := http.Header(ans.Echo.Headers)
		if got := h.Values("X-Demo"); len(got) != 1 || got[0] != "portico" {
			t.Errorf("backend saw X-Demo %q, want [portico]", got)
		}
		if got := h.Values("X-Added"); len(got) != 1 || got[0] != "yes" {
			t.Errorf("backend saw X-Added %q, want [yes]", got)
		}
		if got := h.Values("User-Agent"); len(got) != 0 {
			t.Errorf("backend saw User-Agent %q, want it removed", got)
		}
	})

	t.Run("redirect", func(t *testing.T) {
		ans, err := do(client, request(gw, "", "/old/page"))
		if err != nil {
			t.Fatal(err)
		}
		if ans.Status != http.StatusMovedPermanently {
			t.Fatalf("/old/page: status %d, want 301", ans.Status)
		}
		if loc := ans.Header.Get("Location"); !strings.HasSuffix(loc, "/new/page") {
			t.Errorf("/old/page: Location %q, want .../new/page", loc)
		}
	})

	t.Run("status", func(t *testing.T) {
		objs, _ := offlineStatus(t, dir)
		if err := gatewayConditions(objs, "demo", false); err != nil {
			t.Error(err)
		}
		for _, r := range []string{"echo", "canary", "split", "headers", "redirect"} {
			if err := routeParentConditions(objs, r, "demo", map[string][2]string{
				"Accepted": {"True", "Accepted"}, "ResolvedRefs": {"True", "ResolvedRefs"},
			}); err != nil {
				t.Error(err)
			}
		}
	})
}
