package proxy

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

func withFilters(r ir.HTTPRule, f ir.HTTPFilters) ir.HTTPRule {
	r.Filters = f
	return r
}

func TestFiltersEndToEnd(t *testing.T) {
	h := newHarness(t)
	e := to("echo", echoServer(t, "echo"))
	port := int32(8443)
	url := h.serve(vhost("", route("r",
		withFilters(prefixRule("/req-headers", e), ir.HTTPFilters{RequestHeaders: &ir.HeaderModifier{
			Set:    []ir.Header{{Name: "X-Set", Value: "set"}},
			Add:    []ir.Header{{Name: "X-Add", Value: "added"}},
			Remove: []string{"X-Remove"},
		}}),
		withFilters(prefixRule("/resp-headers", e), ir.HTTPFilters{ResponseHeaders: &ir.HeaderModifier{
			Set:    []ir.Header{{Name: "X-Backend", Value: "overridden"}},
			Add:    []ir.Header{{Name: "X-Resp-Add", Value: "1"}},
			Remove: []string{"Content-Type"},
		}}),
		withFilters(prefixRule("/no-endpoints", ir.Backend{Name: "ns/empty:80", Weight: 1}), ir.HTTPFilters{ResponseHeaders: &ir.HeaderModifier{
			Set: []ir.Header{{Name: "X-Even-On-Errors", Value: "1"}},
		}}),
		withFilters(prefixRule("/redirect", e), ir.HTTPFilters{Redirect: &ir.Redirect{
			Scheme: "https", Hostname: "example.org", Port: &port, StatusCode: 301,
			Path: &ir.PathModifier{Type: ir.PrefixMatch, Value: "/moved"},
		}}),
		withFilters(prefixRule("/prefix/old", e), ir.HTTPFilters{Rewrite: &ir.Rewrite{
			Hostname: "rewritten.example.com",
			Path:     &ir.PathModifier{Type: ir.PrefixMatch, Value: "/new"},
		}}),
		withFilters(prefixRule("/full", e), ir.HTTPFilters{Rewrite: &ir.Rewrite{
			Path: &ir.PathModifier{Type: ir.FullPath, Value: "/replaced"},
		}}),
		withFilters(prefixRule("/cors", e), ir.HTTPFilters{CORS: &ir.CORS{
			AllowOrigins: []string{"https://*.example.com"},
			AllowMethods: []string{"GET", "PUT"},
			MaxAge:       60,
		}}),
	)))

	t.Run("RequestHeaderModifier", func(t *testing.T) {
		_, got := get(t, url+"/req-headers", "x", "X-Set", "client", "X-Add", "client", "X-Remove", "gone")
		if got.Header.Get("X-Set") != "set" || strings.Join(got.Header["X-Add"], ",") != "client,added" || got.Header.Get("X-Remove") != "" {
			t.Fatalf("backend saw %v", got.Header)
		}
	})
	t.Run("ResponseHeaderModifier", func(t *testing.T) {
		resp, _ := do(t, client, "GET", url+"/resp-headers", "x")
		if resp.Header.Get("X-Backend") != "overridden" || resp.Header.Get("X-Resp-Add") != "1" || resp.Header.Get("Content-Type") != "" {
			t.Fatalf("response headers %v", resp.Header)
		}
		resp, _ = do(t, client, "GET", url+"/no-endpoints", "x")
		if resp.StatusCode != 503 || resp.Header.Get("X-Even-On-Errors") != "1" {
			t.Fatalf("proxy answer: %d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("RequestRedirect", func(t *testing.T) {
		resp, _ := do(t, client, "GET", url+"/redirect/a?q=1", "x")
		if want := "https://example.org:8443/moved/a?q=1"; resp.StatusCode != 301 || resp.Header.Get("Location") != want {
			t.Fatalf("got %d %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})
	t.Run("URLRewrite", func(t *testing.T) {
		_, got := get(t, url+"/prefix/old/rest?q=1", "client.example.com")
		if got.Host != "rewritten.example.com" || got.Path != "/new/rest?q=1" {
			t.Fatalf("backend saw Host %q path %q", got.Host, got.Path)
		}
		if got.Header.Get("X-Forwarded-Host") != "client.example.com" {
			t.Errorf("X-Forwarded-Host %q, want the client's Host", got.Header.Get("X-Forwarded-Host"))
		}
		_, got = get(t, url+"/full/anything", "x")
		if got.Path != "/replaced" {
			t.Fatalf("full path rewrite: backend saw %q", got.Path)
		}
	})
	t.Run("CORS", func(t *testing.T) {
		resp, _ := do(t, client, "OPTIONS", url+"/cors", "x", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT")
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.Header.Get("X-Backend") != "" {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
		resp, _ = do(t, client, "GET", url+"/cors", "x", "Origin", "https://app.example.com")
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.Header.Get("X-Backend") != "echo" {
			t.Fatalf("actual: %d %v", resp.StatusCode, resp.Header)
		}
	})
}

func TestBackendFiltersApplyToTheirBackendOnly(t *testing.T) {
	h := newHarness(t)
	a, b := to("a", echoServer(t, "a")), to("b", echoServer(t, "b"))
	a.Filters = &ir.HTTPFilters{RequestHeaders: &ir.HeaderModifier{Set: []ir.Header{{Name: "X-Backend-Filter", Value: "a"}}}}
	url := h.serve(vhost("", route("r", prefixRule("/", a, b))))
	seen := map[string]int{}
	for range 40 {
		_, e := get(t, url+"/", "x")
		if (e.Backend == "a") != (e.Header.Get("X-Backend-Filter") == "a") {
			t.Fatalf("backend %s saw X-Backend-Filter %q", e.Backend, e.Header.Get("X-Backend-Filter"))
		}
		seen[e.Backend]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Fatalf("split %v", seen)
	}
}

func TestInvalidFilterIsRefused(t *testing.T) {
	h := newHarness(t)
	name, port := h.port()
	bad := withFilters(prefixRule("/", to("e", echoServer(t, "e"))), ir.HTTPFilters{RequestHeaders: &ir.HeaderModifier{Set: []ir.Header{{Name: "bad header", Value: "x"}}}})
	ack := h.p.Apply(&ir.Config{Version: 1, Listeners: []ir.Listener{httpListener(name, port, vhost("", route("r", bad)))}})
	if msg := ack.InvalidListeners[name]; !contains(msg, "bad header") || !contains(msg, "ns/r") {
		t.Fatalf("got %+v, want an error naming the route and header", ack)
	}
}

func TestMirrorSendsACopy(t *testing.T) {
	h := newHarness(t)
	got := make(chan string, 4)
	mirror, _ := counting(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + r.Host + r.URL.Path + " " + string(b) + " " + r.Header.Get("X-Set")
	})
	main := to("main", echoServer(t, "main"))
	url := h.serve(vhost("", route("r", withFilters(prefixRule("/", main), ir.HTTPFilters{
		RequestHeaders: &ir.HeaderModifier{Set: []ir.Header{{Name: "X-Set", Value: "1"}}},
		Mirrors:        []ir.Mirror{{Backend: to("mirror", mirror)}},
	}))))

	resp, err := client.Post(url+"/m", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !contains(string(b), `"body":"body"`) {
		t.Fatalf("main: %d %s", resp.StatusCode, b)
	}
	select {
	case m := <-got:
		if want := "POST " + strings.TrimPrefix(url, "http://") + "/m body 1"; m != want {
			t.Fatalf("mirror saw %q, want %q", m, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("mirror never received the copy")
	}
}

// A mirror that hangs must not slow the main request down.
// A mirrored copy leaves after its request is answered and the connection
// has read the next one: it must carry its own request's target and
// fields, not whatever the connection's buffer holds by then.
func TestMirrorKeepsItsRequest(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	var seen []string
	mirror, n := counting(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI()+" "+r.Header.Get("X-Seq"))
		mu.Unlock()
	})
	url := h.serve(vhost("", route("r", withFilters(prefixRule("/", to("main", echoServer(t, "main"))), ir.HTTPFilters{
		Mirrors: []ir.Mirror{{Backend: to("mirror", mirror)}},
	}))))
	var want []string
	for i := range 20 {
		target := fmt.Sprintf("/p%02d?q=%02d", i, i) // equal lengths: each request lands where the last was
		want = append(want, fmt.Sprintf("%s s%02d", target, i))
		if code, _ := get(t, url+target, "x", "X-Seq", fmt.Sprintf("s%02d", i)); code != 200 {
			t.Fatalf("got %d", code)
		}
	}
	for start := time.Now(); n.Load() < 20 && time.Since(start) < 5*time.Second; time.Sleep(10 * time.Millisecond) {
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(seen)
	if !slices.Equal(seen, want) {
		t.Fatalf("mirror saw %q, want %q", seen, want)
	}
}

func TestSlowMirrorDoesNotBlock(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	mirror, n := counting(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // before the mirror server closes
	url := h.serve(vhost("", route("r", withFilters(prefixRule("/", to("main", echoServer(t, "main"))), ir.HTTPFilters{
		Mirrors: []ir.Mirror{{Backend: to("mirror", mirror)}},
	}))))
	start := time.Now()
	for range 5 {
		if code, _ := get(t, url+"/", "x"); code != 200 {
			t.Fatalf("got %d", code)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("5 requests took %v with a hanging mirror", d)
	}
	for start := time.Now(); n.Load() < 5 && time.Since(start) < 3*time.Second; time.Sleep(10 * time.Millisecond) {
	}
	if n.Load() < 5 {
		t.Fatalf("mirror saw %d copies, want 5", n.Load())
	}
}
