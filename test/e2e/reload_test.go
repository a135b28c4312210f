package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// reloadSetup starts the named backends and portico on a directory holding
// gateway.yaml (one HTTP listener "http" of Gateway "gw") and backends.yaml,
// plus the given extra files. It returns the directory, the gateway address
// and the process.
func reloadSetup(t *testing.T, names []string, files map[string]string) (string, string, *portico) {
	t.Helper()
	var bs []backend
	for _, n := range names {
		bs = append(bs, startBackend(t, n))
	}
	port := freePort(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}))
	writeFile(t, dir, "backends.yaml", servicesYAML(bs...))
	for name, content := range files {
		writeFile(t, dir, name, content)
	}
	p := startPortico(t, dir)
	return dir, "127.0.0.1:" + strconv.Itoa(port), p
}

// eventuallyPod polls until path on the gateway answers 200 from pod.
func eventuallyPod(t *testing.T, client *http.Client, gw, path, pod string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%s to be answered by %s", path, pod), func() error {
		ans, err := do(client, request(gw, "reload.example.com", path))
		if err != nil {
			return err
		}
		return expectPod(ans, pod)
	})
}

// TestHotReload rewrites, adds and removes route files and checks each
// change is served, over a kept-alive connection.
func TestHotReload(t *testing.T) {
	dir, gw, _ := reloadSetup(t, []string{"echo-a", "echo-b"}, map[string]string{
		"route.yaml": routeYAML("r", "gw", nil, "/", nil, to("echo-a")),
	})
	client := newClient()
	eventuallyPod(t, client, gw, "/", "echo-a", readyTimeout)

	writeFile(t, dir, "route.yaml", routeYAML("r", "gw", nil, "/", nil, to("echo-b")))
	eventuallyPod(t, client, gw, "/", "echo-b", reloadTimeout)

	writeFile(t, dir, "extra.yml", routeYAML("extra", "gw", nil, "/extra", nil, to("echo-a")))
	eventuallyPod(t, client, gw, "/extra", "echo-a", reloadTimeout)

	if err := os.Remove(filepath.Join(dir, "extra.yml")); err != nil {
		t.Fatal(err)
	}
	eventuallyPod(t, client, gw, "/extra", "echo-b", reloadTimeout)

	// Files in a subdirectory count too.
	sub := filepath.Join(dir, "more")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, sub, "deep.yaml", routeYAML("deep", "gw", nil, "/deep", nil, to("echo-a")))
	eventuallyPod(t, client, gw, "/deep", "echo-a", reloadTimeout)
}

// TestBadFileKeepsLastGood breaks one file: what it held keeps serving as it
// last parsed, the error is reported, other files still reload, and fixing
// the file applies it.
func TestBadFileKeepsLastGood(t *testing.T) {
	dir, gw, p := reloadSetup(t, []string{"echo-a", "echo-b"}, map[string]string{
		"one.yaml": routeYAML("one", "gw", nil, "/one", nil, to("echo-a")),
		"two.yaml": routeYAML("two", "gw", nil, "/two", nil, to("echo-b")),
	})
	client := newClient()
	eventuallyPod(t, client, gw, "/one", "echo-a", readyTimeout)
	eventuallyPod(t, client, gw, "/two", "echo-b", readyTimeout)

	writeFile(t, dir, "two.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: [this is: not valid\n")
	eventually(t, reloadTimeout, "the broken two.yaml to be reported in the logs or /status", func() error {
		if strings.Contains(p.output.String(), "two.yaml") {
			return nil
		}
		for _, path := range []string{"/status", "/diagnostics"} {
			if body, err := p.adminGet(path); err == nil && strings.Contains(string(body), "two.yaml") {
				return nil
			}
		}
		return fmt.Errorf("neither the output nor the admin /status or /diagnostics mention two.yaml")
	})

	// Other files still reload while two.yaml is broken.
	writeFile(t, dir, "three.yaml", routeYAML("three", "gw", nil, "/three", nil, to("echo-a")))
	eventuallyPod(t, client, gw, "/three", "echo-a", reloadTimeout)
	for range 20 {
		for path, pod := range map[string]string{"/one": "echo-a", "/two": "echo-b"} {
			ans, err := do(client, request(gw, "reload.example.com", path))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if err := expectPod(ans, pod); err != nil {
				t.Fatalf("%s after two.yaml broke: %v", path, err)
			}
		}
	}

	writeFile(t, dir, "two.yaml", routeYAML("two", "gw", nil, "/two", nil, to("echo-a")))
	eventuallyPod(t, client, gw, "/two", "echo-a", reloadTimeout)
}

// TestZeroFailedRequestsDuringReloads keeps 8 clients busy on kept-alive
// connections (6 HTTP/1.1, 2 h2c) while the routes are rewritten 25 times;
// every request must answer 200 from one of the backends.
func TestZeroFailedRequestsDuringReloads(t *testing.T) {
	const (
		workers          = 8
		h2cWorkers       = 2
		maxPerWorker     = 5000
		rewrites         = 25
		rewriteEvery     = 200 * time.Millisecond
		minTotalRequests = 200
	)
	backends := []string{"echo-a", "echo-b", "echo-c"}
	weightSets := [][]weighted{
		{{"echo-a", 1}, {"echo-b", 1}},
		{{"echo-b", 3}, {"echo-c", 1}},
		{{"echo-c", 1}},
		{{"echo-a", 1}, {"echo-b", 1}, {"echo-c", 1}},
		{{"echo-a", 5}},
	}
	dir, gw, p := reloadSetup(t, backends, map[string]string{
		"load.yaml":  routeYAML("load", "gw", nil, "/load", nil, weightSets[0]...),
		"other.yaml": routeYAML("other", "gw", nil, "/other-0", nil, to("echo-c")),
	})
	eventuallyPod(t, newClient(), gw, "/load", "echo-a", readyTimeout)
	eventually(t, readyTimeout, "/load to answer from echo-b too", func() error {
		ans, err := do(newClient(), request(gw, "load.example.com", "/load"))
		if err != nil {
			return err
		}
		return expectPod(ans, "echo-b")
	})

	var (
		stop     = make(chan struct{})
		total    atomic.Int64
		failures atomic.Int64
		mu       sync.Mutex
		samples  []string
		byPod    = map[string]int{}
		wg       sync.WaitGroup
	)
	fail := func(msg string) {
		failures.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if len(samples) < 20 {
			samples = append(samples, msg)
		}
	}
	for w := range workers {
		var client *http.Client
		if w < h2cWorkers {
			tr := &http.Transport{Protocols: new(http.Protocols)}
			tr.Protocols.SetUnencryptedHTTP2(true)
			client = &http.Client{Timeout: 10 * time.Second, Transport: tr}
		} else {
			client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		}
		wg.Go(func() {
			seen := map[string]int{}
			defer func() {
				mu.Lock()
				for k, v := range seen {
					byPod[k] += v
				}
				mu.Unlock()
			}()
			for i := range maxPerWorker {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/load/w%d/%d", w, i)
				ans, err := do(client, request(gw, "load.example.com", path))
				total.Add(1)
				switch {
				case err != nil:
					fail(fmt.Sprintf("worker %d request %d: transport error: %v", w, i, err))
				case ans.Status != http.StatusOK:
					fail(fmt.Sprintf("worker %d request %d: status %d: %.200s", w, i, ans.Status, ans.Body))
				case ans.Echo.Path != path:
					fail(fmt.Sprintf("worker %d request %d: backend %q saw path %q", w, i, ans.Echo.Pod, ans.Echo.Path))
				default:
					seen[ans.Echo.Pod]++
				}
			}
		})
	}

	versionBefore := configVersion(t, p)
	start := time.Now()
	for i := 1; i <= rewrites; i++ {
		time.Sleep(rewriteEvery)
		writeFile(t, dir, "load.yaml", routeYAML("load", "gw", nil, "/load", nil, weightSets[i%len(weightSets)]...))
		if i%2 == 0 {
			writeFile(t, dir, "other.yaml", routeYAML("other", "gw", nil, "/other-"+strconv.Itoa(i), nil, to("echo-c")))
		}
	}
	time.Sleep(rewriteEvery)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	applied := configVersion(t, p) - versionBefore

	t.Logf("%d requests in %v during %d rewrites (%d configurations applied); answers by backend: %v",
		total.Load(), elapsed.Round(time.Millisecond), rewrites, applied, byPod)
	// Debouncing may merge some rewrites, but most must have been applied
	// while the clients were busy, or the test proved nothing.
	if applied < rewrites/4 {
		t.Errorf("only %d configurations were applied during %d rewrites", applied, rewrites)
	}
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during reloads; first ones:\n  %s", n, total.Load(), strings.Join(samples, "\n  "))
	}
	if total.Load() < minTotalRequests {
		t.Errorf("only %d requests were sent; the test did not load the gateway", total.Load())
	}
	for pod := range byPod {
		if !slices.Contains(backends, pod) {
			t.Errorf("unexpected backend %q answered", pod)
		}
	}
	// The reloads took effect, and the gateway still follows changes.
	writeFile(t, dir, "load.yaml", routeYAML("load", "gw", nil, "/load", nil, to("echo-c")))
	eventuallyPod(t, newClient(), gw, "/load", "echo-c", reloadTimeout)
	if err := p.alive(); err != nil {
		t.Fatal(err)
	}
}

// TestWebSocketSurvivesReload keeps a WebSocket open through the gateway
// while unrelated routes change, and checks it still echoes after each.
func TestWebSocketSurvivesReload(t *testing.T) {
	dir, gw, _ := reloadSetup(t, []string{"echo-ws", "echo-a"}, map[string]string{
		"ws.yaml":    routeYAML("ws", "gw", nil, "/ws", nil, to("echo-ws")),
		"other.yaml": routeYAML("other", "gw", nil, "/v0", nil, to("echo-a")),
	})
	client := newClient()
	eventuallyPod(t, client, gw, "/v0", "echo-a", readyTimeout)
	conn := dialWebSocket(t, gw, "ws.example.com")
	if err := wsRoundTrip(conn, websocket.TextMessage, []byte("before")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		writeFile(t, dir, "other.yaml", routeYAML("other", "gw", nil, "/v"+strconv.Itoa(i), nil, to("echo-a")))
		eventuallyPod(t, client, gw, "/v"+strconv.Itoa(i), "echo-a", reloadTimeout)
		msg := []byte("after reload " + strconv.Itoa(i))
		if err := wsRoundTrip(conn, websocket.BinaryMessage, msg); err != nil {
			t.Fatalf("WebSocket after reload %d: %v", i, err)
		}
	}
}

// configVersion is the version of the IR the proxy serves (admin /config).
func configVersion(t *testing.T, p *portico) uint64 {
	t.Helper()
	body, err := p.adminGet("/config")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version uint64 `json:"version"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatalf("admin /config is not JSON: %v", err)
	}
	return cfg.Version
}
