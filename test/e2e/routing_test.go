package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestRouting sends real HTTP/1.1 requests through the binary and checks
// host, path and header matches, and their precedence.
func TestRouting(t *testing.T) {
	a, b, c := startBackend(t, "echo-a"), startBackend(t, "echo-b"), startBackend(t, "echo-c")
	port := freePort(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}))
	writeFile(t, dir, "backends.yaml", servicesYAML(a, b, c))
	writeFile(t, dir, "routes.yaml", join(
		// Any host, any path: echo-a.
		routeYAML("default", "gw", nil, "/", nil, to("echo-a")),
		// A longer prefix wins: echo-b.
		routeYAML("api", "gw", nil, "/api", nil, to("echo-b")),
		// A header match beats the same path without one: echo-c.
		routeYAML("canary", "gw", nil, "/", []string{"X-Canary: true"}, to("echo-c")),
		// A hostname-specific route wins for its host: echo-c.
		routeYAML("host", "gw", []string{"shop.example.com"}, "/", nil, to("echo-c")),
	))
	startPortico(t, dir)
	gw := "127.0.0.1:" + strconv.Itoa(port)
	client := newClient()

	tests := []struct {
		name    string
		host    string
		path    string
		headers []string
		want    string
	}{
		{"prefix /", "www.example.com", "/", nil, "echo-a"},
		{"prefix / deep path", "www.example.com", "/x/y?z=1", nil, "echo-a"},
		{"longer prefix", "www.example.com", "/api/v1/items", nil, "echo-b"},
		{"prefix matches whole segments only", "www.example.com", "/apiary", nil, "echo-a"},
		{"header match", "www.example.com", "/", []string{"X-Canary: true"}, "echo-c"},
		{"header value must match", "www.example.com", "/", []string{"X-Canary: false"}, "echo-a"},
		{"hostname", "shop.example.com", "/anything", nil, "echo-c"},
		{"hostname with port", "shop.example.com:" + strconv.Itoa(port), "/", nil, "echo-c"},
	}
	// The first request can race the listener coming up on a slow machine.
	eventually(t, readyTimeout, "the gateway to route /", func() error {
		ans, err := do(client, request(gw, "www.example.com", "/"))
		if err != nil {
			return err
		}
		return expectPod(ans, "echo-a")
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := do(client, request(gw, tt.host, tt.path, tt.headers...))
			if err != nil {
				t.Fatal(err)
			}
			if err := expectPod(ans, tt.want); err != nil {
				t.Fatal(err)
			}
			if ans.Echo.Path != tt.path {
				t.Errorf("backend saw path %q, want %q", ans.Echo.Path, tt.path)
			}
			if ans.Echo.Host != tt.host {
				t.Errorf("backend saw host %q, want %q", ans.Echo.Host, tt.host)
			}
			for _, h := range tt.headers {
				if name, value := splitHeader(h); fmt.Sprint(ans.Echo.Headers[name]) != fmt.Sprint([]string{value}) {
					t.Errorf("backend saw %s %v, want [%s]", name, ans.Echo.Headers[name], value)
				}
			}
		})
	}

	t.Run("unknown host reaches the catch-all", func(t *testing.T) {
		ans, err := do(client, request(gw, "unknown.example.org", "/"))
		if err != nil {
			t.Fatal(err)
		}
		if err := expectPod(ans, "echo-a"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestNoMatchingRoute checks a 404 when no route matches the request.
func TestNoMatchingRoute(t *testing.T) {
	a := startBackend(t, "echo-a")
	port := freePort(t)
	dir := t.TempDir()
	writeFile(t, dir, "all.yaml", join(
		gatewayYAML("gw", listener{Name: "http", Protocol: "HTTP", Port: port}),
		servicesYAML(a),
		routeYAML("only", "gw", []string{"only.example.com"}, "/only", nil, to("echo-a")),
	))
	startPortico(t, dir)
	gw := "127.0.0.1:" + strconv.Itoa(port)
	client := newClient()
	eventually(t, readyTimeout, "the gateway to route /only", func() error {
		ans, err := do(client, request(gw, "only.example.com", "/only"))
		if err != nil {
			return err
		}
		return expectPod(ans, "echo-a")
	})
	for _, r := range []*http.Request{
		request(gw, "only.example.com", "/other"),
		request(gw, "other.example.com", "/only"),
	} {
		ans, err := do(client, r)
		if err != nil {
			t.Fatal(err)
		}
		if ans.Status != http.StatusNotFound {
			t.Errorf("%s%s: status %d, want 404", r.Host, r.URL.Path, ans.Status)
		}
	}
}

func splitHeader(h string) (name, value string) {
	name, value, _ = strings.Cut(h, ":")
	return http.CanonicalHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value)
}
