package standalone

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const gwHTTP = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: portico
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
`

// start starts r until the test ends.
func start(t *testing.T, r *Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done, err := r.Start(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
}

// A burst of file writes is one reload, once the burst is over, and the
// watcher's poll does not report the same change again afterwards (the
// loop tells the watcher what it read).
func TestBurstOfWritesIsOneReload(t *testing.T) {
	dir := t.TempDir()
	writeYAML(t, dir, "gw.yaml", gwHTTP)
	var buf logBuf
	r := New(Options{ConfigDir: dir, BindAddress: "127.0.0.1", Debounce: time.Second,
		Logger: slog.New(slog.NewTextHandler(&buf, nil))}, fakeProxy{})
	start(t, r)
	if out := buf.take(); !strings.Contains(out, "configuration version 1 applied") {
		t.Fatalf("first load:\n%s", out)
	}
	time.Sleep(200 * time.Millisecond) // the watches are set up
	for i := range 5 {
		writeYAML(t, dir, fmt.Sprintf("route-%d.yaml", i), fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r%d}
spec:
  parentRefs: [{name: gw}]
`, i))
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	var out string
	for !strings.Contains(out, "configuration version 2 applied") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after the burst:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
		out += buf.take()
	}
	// Two polls of the watcher (every 2 s) and a debounce later, nothing
	// more was reloaded.
	time.Sleep(2*time.Second + 2*time.Second + 1500*time.Millisecond)
	out += buf.take()
	if n := strings.Count(out, "msg="); n != 1 || !strings.Contains(out, `added="[HTTPRoute default/r0 HTTPRoute default/r1 HTTPRoute default/r2 HTTPRoute default/r3 HTTPRoute default/r4]"`) {
		t.Errorf("want one reload with the five routes, got %d log lines:\n%s", n, out)
	}
}
