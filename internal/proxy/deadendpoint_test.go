package proxy

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
	"portico.dev/portico/internal/testclient"
)

// restartable is an echo backend that can be killed (its listener and
// connections closed, so connects are refused) and brought back on the
// same address.
type restartable struct {
	t    *testing.T
	name string
	addr net.Addr
	mu   sync.Mutex
	srv  *http.Server
}

func newRestartable(t *testing.T, name string) *restartable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, name: name, addr: ln.Addr()}
	r.serve(ln)
	t.Cleanup(r.kill)
	return r
}

func (r *restartable) serve(ln net.Listener) {
	srv := &http.Server{Handler: echoHandler(r.name)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (r *restartable) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		_ = r.srv.Close()
		r.srv = nil
	}
}

func (r *restartable) restart() {
	ln, err := net.Listen("tcp", r.addr.String())
	if err != nil {
		r.t.Fatalf("rebinding %s: %v", r.addr, err)
	}
	r.serve(ln)
}

// A backend with one of its two endpoints dead loses no request: a
// refused connect goes to the other endpoint, the dead one is skipped,
// and once it is back it gets traffic again. Both upstream clients: the
// fast paths' (HTTP/1.1 and HTTP/2) and backend.Pool's (a rule with a
// filter, served by the http.Handler).
func TestDeadEndpointIsSkipped(t *testing.T) {
	a, b := newRestartable(t, "a"), newRestartable(t, "b")
	be := ir.Backend{Name: "ns/ab:80", Weight: 1, Protocol: ir.BackendHTTP, Endpoints: []ir.Endpoint{endpoint(a.addr), endpoint(b.addr)}}
	h := newHarness(t)
	url := h.serve(vhost("", route("r",
		prefixRule("/fast", be),
		withFilters(prefixRule("/handler", be), ir.HTTPFilters{Rewrite: &ir.Rewrite{Hostname: "rewritten.example"}}),
	)))
	clients := map[string]*http.Client{"HTTP/1.1": client, "HTTP/2": h2cClient()}
	for proto, c := range clients {
		for _, p := range []string{"/fast", "/handler"} {
			if n, first := testclient.Failures(c, getter(url+p), 20, 2); n > 0 {
				t.Fatalf("%s %s with both endpoints up: %d failures (%s)", proto, p, n, first)
			}
		}
	}

	a.kill()
	for proto, c := range clients {
		for _, p := range []string{"/fast", "/handler"} {
			if n, first := testclient.Failures(c, getter(url+p), 300, 4); n > 0 {
				t.Errorf("%s %s with one endpoint dead: %d of 300 failed (%s)", proto, p, n, first)
			}
			// Once the endpoint is known dead, requests with bodies are
			// not lost either (on the handler path, a body that cannot be
			// sent again never probes it).
			if n, first := testclient.Failures(c, poster(url+p), 100, 4); n > 0 {
				t.Errorf("%s POST %s with one endpoint dead: %d of 100 failed (%s)", proto, p, n, first)
			}
		}
	}

	a.restart()
	for proto, c := range clients {
		for _, p := range []string{"/fast", "/handler"} {
			deadline := time.Now().Add(45 * time.Second) // past the longest skip interval
			for {
				resp, err := c.Get(url + p)
				if err != nil {
					t.Fatalf("%s %s: %v", proto, p, err)
				}
				var e echo
				_ = json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s %s after the restart: %d", proto, p, resp.StatusCode)
				}
				if e.Backend == "a" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s %s: the endpoint that came back got no request", proto, p)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// getter makes GETs of url.
func getter(url string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		return req
	}
}

// poster makes POSTs of a small body to url.
func poster(url string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("payload"))
		return req
	}
}
