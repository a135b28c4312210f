package proxy

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

// harness is a Proxy on 127.0.0.1 whose sockets the test pre-opens on
// port 0, so no test races another process for a port.
type harness struct {
	t   *testing.T
	p   *Proxy
	mu  sync.Mutex
	lns map[string]net.Listener
}

func newHarness(t *testing.T) *harness { t.Helper(); return newHarnessWith(t, nil) }

// newHarnessWith is newHarness with options changed by mod.
func newHarnessWith(t *testing.T, mod func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, lns: map[string]net.Listener{}}
	opts := Options{
		Logger:       testLogger(t),
		DrainTimeout: 2 * time.Second,
		Listen:       h.listen,
		Engine:       testEngine,
	}
	if mod != nil {
		mod(&opts)
	}
	h.p = New(opts)
	t.Cleanup(func() {
		// Over 6 s: the nethttp engine waits that long for a connection
		// that never sent a request (see NetHTTP), and a loaded client
		// transport dials spares.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, ln := range h.lns {
			ln.Close()
		}
	})
	return h
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// port opens a socket on 127.0.0.1:0 for the proxy to take and returns the
// listener name and port to put in the Config.
func (h *harness) port() (string, int32) {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.lns[ln.Addr().String()] = ln
	h.mu.Unlock()
	return ln.Addr().String(), int32(ln.Addr().(*net.TCPAddr).Port)
}

func (h *harness) listen(ctx context.Context, network, addr string) (net.Listener, error) {
	h.mu.Lock()
	ln, ok := h.lns[addr]
	delete(h.lns, addr)
	h.mu.Unlock()
	if ok {
		return ln, nil
	}
	return (&net.ListenConfig{}).Listen(ctx, network, addr)
}

func (h *harness) apply(cfg *ir.Config) {
	h.t.Helper()
	if ack := h.p.Apply(cfg); ack.Error != "" || len(ack.ListenerErrors) > 0 || len(ack.InvalidListeners) > 0 {
		h.t.Fatalf("Apply: %+v", ack)
	}
}

// serve applies a Config of one HTTP listener with vhs and returns its
// base URL.
func (h *harness) serve(vhs ...ir.VirtualHost) string {
	h.t.Helper()
	name, port := h.port()
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{httpListener(name, port, vhs...)}})
	return "http://" + name
}

func httpListener(name string, port int32, vhs ...ir.VirtualHost) ir.Listener {
	return ir.Listener{Name: name, Address: "127.0.0.1", Port: port, Protocol: ir.ProtocolHTTP, VirtualHosts: vhs}
}

func vhost(hostname string, routes ...ir.HTTPRoute) ir.VirtualHost {
	return ir.VirtualHost{Name: "ns/gw/" + hostname, Hostname: hostname, Routes: routes}
}

func route(name string, rules ...ir.HTTPRule) ir.HTTPRoute {
	for i := range rules {
		rules[i].Index = i
	}
	return ir.HTTPRoute{Name: "ns/" + name, Rules: rules}
}

func prefixRule(path string, backends ...ir.Backend) ir.HTTPRule {
	return ir.HTTPRule{Matches: []ir.HTTPMatch{{Path: ir.PathMatch{Type: ir.PathPrefix, Value: path}}}, Backends: backends}
}

// to is a weight-1 HTTP backend whose endpoints are the test servers.
func to(name string, srvs ...*httptest.Server) ir.Backend {
	b := ir.Backend{Name: "ns/" + name + ":80", Weight: 1, Protocol: ir.BackendHTTP}
	for _, s := range srvs {
		b.Endpoints = append(b.Endpoints, endpoint(s.Listener.Addr()))
	}
	return b
}

func endpoint(a net.Addr) ir.Endpoint {
	host, port, _ := net.SplitHostPort(a.String())
	p, _ := strconv.Atoi(port)
	return ir.Endpoint{Address: host, Port: int32(p)}
}

// echo is what echoServer answers: the request as the backend saw it.
type echo struct {
	Backend string      `json:"backend"`
	Method  string      `json:"method"`
	Host    string      `json:"host"`
	Path    string      `json:"path"`
	Proto   string      `json:"proto"`
	Header  http.Header `json:"header"`
	Body    string      `json:"body"`
}

// echoServer is a backend named name that answers every request with echo.
func echoServer(t *testing.T, name string) *httptest.Server {
	s := httptest.NewServer(echoHandler(name))
	t.Cleanup(s.Close)
	return s
}

func echoHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", name)
		_ = json.NewEncoder(w).Encode(echo{Backend: name, Method: r.Method, Host: r.Host, Path: r.URL.RequestURI(), Proto: r.Proto, Header: r.Header, Body: string(body)})
	})
}

// counting is a backend that counts requests and lets the test decide the
// answer per attempt number (1-based).
func counting(t *testing.T, answer func(n int64, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(n.Add(1), w, r)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

// reset closes the client connection with an RST (SO_LINGER 0), before any
// response byte.
func reset(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
}

var client = &http.Client{
	Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
	Timeout:   10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// do sends a request with Host host and returns status and body.
func do(t *testing.T, c *http.Client, method, url, host string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %s): %v", method, url, host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

// get returns the status and the echo of a GET (Backend empty when the
// body is not an echo).
func get(t *testing.T, url, host string, hdr ...string) (int, echo) {
	t.Helper()
	resp, body := do(t, client, http.MethodGet, url, host, hdr...)
	var e echo
	_ = json.Unmarshal([]byte(body), &e)
	return resp.StatusCode, e
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
