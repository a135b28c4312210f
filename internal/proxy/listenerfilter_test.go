package proxy

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"portico.dev/portico/internal/ir"
)

// authSeen is what an authorization service received.
type authSeen struct {
	method, host, path, body, contentLength string
	header                                  http.Header
}

// authService allows requests with "Authorization: Bearer good" (answering
// with allowHeaders) and denies the others with 403.
func authService(t *testing.T, allowHeaders map[string]string) (ir.Backend, func() []authSeen) {
	var mu sync.Mutex
	var seen []authSeen
	srv, _ := counting(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, authSeen{r.Method, r.Host, r.URL.RequestURI(), string(b), r.Header.Get("Content-Length"), r.Header.Clone()})
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer good" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "denied by auth")
			return
		}
		for k, v := range allowHeaders {
			w.Header().Set(k, v)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok")
	})
	return to("auth", srv), func() []authSeen {
		mu.Lock()
		defer mu.Unlock()
		return append([]authSeen(nil), seen...)
	}
}

func headerRule(name, value string, be ir.Backend) ir.HTTPRule {
	r := prefixRule("/", be)
	r.Matches[0].Headers = []ir.HeaderMatch{{Type: ir.MatchExact, Name: name, Value: value}}
	return r
}

func TestListenerExternalAuth(t *testing.T) {
	h := newHarness(t)
	auth, seen := authService(t, map[string]string{"X-User": "alice", "X-Tier": "gold", "Host": "evil.example.com"})
	a, gold := to("a", echoServer(t, "a")), to("gold", echoServer(t, "gold"))
	vh := vhost("", route("r", prefixRule("/", a), headerRule("X-Tier", "gold", gold)))
	vh.Filters = []ir.ListenerFilter{{ExternalAuth: &ir.ExternalAuth{
		Backend:               auth,
		PathPrefix:            "/check/",
		AllowedRequestHeaders: []string{"x-keep"},
		MaxBodySize:           4,
	}}}
	url := h.serve(vh)

	t.Run("denied", func(t *testing.T) {
		resp, body := do(t, client, "GET", url+"/some/path?q=1", "app.example.com", "X-Keep", "k", "X-Drop", "d")
		if resp.StatusCode != 403 || body != "denied by auth" || resp.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Fatalf("got %d %q %v, want the service's 403", resp.StatusCode, body, resp.Header)
		}
		s := seen()[len(seen())-1]
		if s.method != "GET" || s.host != "app.example.com" || s.path != "/check/some/path?q=1" ||
			s.header.Get("X-Keep") != "k" || s.header.Get("X-Drop") != "" {
			t.Fatalf("the service saw %+v", s)
		}
	})
	t.Run("allowed, and routing sees the service's headers", func(t *testing.T) {
		code, e := get(t, url+"/x", "app.example.com", "Authorization", "Bearer good")
		if code != 200 || e.Backend != "gold" || e.Header.Get("X-User") != "alice" || e.Host != "app.example.com" {
			t.Fatalf("got %d from %q, Host %q, headers %v", code, e.Backend, e.Host, e.Header)
		}
	})
	t.Run("body forwarded up to maxSize, whole to the backend", func(t *testing.T) {
		req, _ := http.NewRequest("POST", url+"/upload", strings.NewReader("hello world"))
		req.Header.Set("Authorization", "Bearer good")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"body":"hello world"`) {
			t.Fatalf("backend answered %d %s", resp.StatusCode, b)
		}
		s := seen()[len(seen())-1]
		if s.body != "hell" || s.contentLength != "4" {
			t.Fatalf("the service got body %q Content-Length %q, want the first 4 bytes", s.body, s.contentLength)
		}
	})
}

func TestListenerExternalAuthAllowedResponseHeaders(t *testing.T) {
	h := newHarness(t)
	auth, _ := authService(t, map[string]string{"X-User": "alice", "X-Other": "no"})
	vh := vhost("", route("r", prefixRule("/", to("a", echoServer(t, "a")))))
	vh.Filters = []ir.ListenerFilter{{ExternalAuth: &ir.ExternalAuth{Backend: auth, AllowedResponseHeaders: []string{"x-user"}}}}
	url := h.serve(vh)
	code, e := get(t, url+"/", "x", "Authorization", "Bearer good", "X-Other", "client")
	if code != 200 || e.Header.Get("X-User") != "alice" || e.Header.Get("X-Other") != "client" {
		t.Fatalf("got %d, backend saw %v", code, e.Header)
	}
}

// Filters run in order and a denial stops the request: later filters and
// routing do not run.
func TestListenerFiltersOrderAndShortCircuit(t *testing.T) {
	h := newHarness(t)
	first, firstSeen := authService(t, map[string]string{"Authorization": "Bearer second-only"})
	second, secondSeen := authService(t, nil)
	vh := vhost("", route("r", prefixRule("/", to("a", echoServer(t, "a")))))
	vh.Filters = []ir.ListenerFilter{{ExternalAuth: &ir.ExternalAuth{Backend: first}}, {ExternalAuth: &ir.ExternalAuth{Backend: second}}}
	url := h.serve(vh)

	if code, _ := get(t, url+"/", "x"); code != 403 || len(firstSeen()) != 1 || len(secondSeen()) != 0 {
		t.Fatalf("denied by the first: got %d, the services saw %d and %d requests", code, len(firstSeen()), len(secondSeen()))
	}
	// The first allows and replaces Authorization, which the second then
	// refuses: the second saw what the first left.
	if code, _ := get(t, url+"/", "x", "Authorization", "Bearer good"); code != 403 || len(secondSeen()) != 1 ||
		secondSeen()[0].header.Get("Authorization") != "Bearer second-only" {
		t.Fatalf("got %d, the second saw %+v", code, secondSeen())
	}
}

func TestListenerExternalAuthInvalidBackendFailsClosed(t *testing.T) {
	h := newHarness(t)
	a, n := counting(t, func(int64, http.ResponseWriter, *http.Request) {})
	vh := vhost("", route("r", prefixRule("/", to("a", a))))
	vh.Filters = []ir.ListenerFilter{{ExternalAuth: &ir.ExternalAuth{Backend: ir.Backend{Name: "ns/missing:80", Invalid: "Service ns/missing does not exist"}}}}
	url := h.serve(vh)
	if code, _ := get(t, url+"/", "x", "Authorization", "Bearer good"); code != 500 || n.Load() != 0 {
		t.Fatalf("got %d and %d backend requests, want 500 and none", code, n.Load())
	}
}
