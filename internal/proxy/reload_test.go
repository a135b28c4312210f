package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

// TestReloadUnderLoadDropsNothing swaps 50 generations (alternating
// backends, so pools come and go) while clients hammer the listener.
func TestReloadUnderLoadDropsNothing(t *testing.T) {
	h := newHarness(t)
	a, b := echoServer(t, "a"), echoServer(t, "b")
	name, port := h.port()
	cfg := func(v uint64) *ir.Config {
		be := to("a", a)
		if v%2 == 0 {
			be = to("b", b)
		}
		return &ir.Config{Version: v, Listeners: []ir.Listener{httpListener(name, port,
			vhost("", route("r", prefixRule("/", be), prefixRule(fmt.Sprintf("/v%d", v), be))))}}
	}
	h.apply(cfg(1))

	const workers, maxRequests = 4, 5000
	deadline := time.Now().Add(2 * time.Second)
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sent.Add(1) <= maxRequests && time.Now().Before(deadline) {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get("http://" + name + "/")
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	for v := uint64(2); v <= 51; v++ {
		h.apply(cfg(v))
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed across 50 swaps; first: %v", n, sent.Load(), firstErr.Load())
	}
	if got := h.p.Config().Version; got != 51 {
		t.Fatalf("serving version %d, want 51", got)
	}
	t.Logf("%d requests, 50 swaps, no failure", min(sent.Load(), maxRequests))
}

func TestWebSocketSurvivesUnrelatedChange(t *testing.T) {
	h := newHarness(t)
	ws := to("ws", wsEcho(t))
	name, port := h.port()
	other, otherPort := h.port()
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{httpListener(name, port, vhost("", route("r", prefixRule("/ws", ws))))}})
	c := dialWS(t, "http://"+name+"/ws")
	echoes(t, c, "before")

	// A new route, a new backend and a new listener: nothing about this
	// connection changed.
	h.apply(&ir.Config{Version: 2, Listeners: []ir.Listener{
		httpListener(name, port, vhost("", route("r", prefixRule("/ws", ws), prefixRule("/new", to("e", echoServer(t, "e")))))),
		httpListener(other, otherPort, vhost("", route("r", prefixRule("/", to("e", echoServer(t, "e")))))),
	}})
	echoes(t, c, "after")
	if code, e := get(t, "http://"+name+"/new", "x"); code != 200 || e.Backend != "e" {
		t.Fatalf("new route: %d %+v", code, e)
	}
}

func TestListenersOpenAndClose(t *testing.T) {
	h := newHarness(t)
	be := to("e", echoServer(t, "e"))
	l1, p1 := h.port()
	l2, p2 := h.port()
	l3, p3 := h.port()
	vh := vhost("", route("r", prefixRule("/", be)))
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{httpListener(l1, p1, vh), httpListener(l2, p2, vh)}})
	for _, l := range []string{l1, l2} {
		if code, _ := get(t, "http://"+l+"/", "x"); code != 200 {
			t.Fatalf("%s: got %d", l, code)
		}
	}

	h.apply(&ir.Config{Version: 2, Listeners: []ir.Listener{httpListener(l1, p1, vh), httpListener(l3, p3, vh)}})
	for _, l := range []string{l1, l3} {
		if code, _ := get(t, "http://"+l+"/", "x"); code != 200 {
			t.Fatalf("%s: got %d", l, code)
		}
	}
	waitRefused(t, l2)

	// And back: the removed socket is opened again.
	h.apply(&ir.Config{Version: 3, Listeners: []ir.Listener{httpListener(l2, p2, vh)}})
	if code, _ := get(t, "http://"+l2+"/", "x"); code != 200 {
		t.Fatalf("%s reopened: got %d", l2, code)
	}
	waitRefused(t, l1)
}

// waitRefused waits until nothing accepts on addr.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 3*time.Second; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		if c != nil {
			c.Close()
		}
	}
	t.Fatalf("%s still accepts connections", addr)
}

func TestProtocolChangeReopensSocket(t *testing.T) {
	h := newHarness(t)
	be := to("e", echoServer(t, "e"))
	name, port := h.port()
	vh := vhost("", route("r", prefixRule("/", be)))
	h.apply(&ir.Config{Version: 1, Listeners: []ir.Listener{httpListener(name, port, vh)}})

	roots := newRoots()
	cert := selfSigned(t, roots, "a", "a.example.com")
	l := httpListener(name, port, tlsVHost("", []ir.Certificate{cert}, vh.Routes...))
	l.Protocol = ir.ProtocolHTTPS
	h.apply(&ir.Config{Version: 2, Listeners: []ir.Listener{l}})
	resp, _ := do(t, tlsClient(roots, "a.example.com"), "GET", "https://"+name+"/", "a.example.com")
	if resp.StatusCode != 200 {
		t.Fatalf("got %d over TLS", resp.StatusCode)
	}
}

func TestBadConfigKeepsServingTheOldOne(t *testing.T) {
	h := newHarness(t)
	url := h.serve(vhost("", route("r", prefixRule("/", to("old", echoServer(t, "old"))))))
	good := h.p.Config()
	name, port := good.Listeners[0].Name, good.Listeners[0].Port
	old := good.Listeners[0]

	badRegex := prefixRule("/", to("new", echoServer(t, "new")))
	badRegex.Matches[0].Path = ir.PathMatch{Type: ir.PathRegex, Value: "/(unclosed"}
	for _, tc := range []struct {
		name    string
		cfg     *ir.Config
		wantErr string
	}{
		{"bad regex", &ir.Config{Version: 2, Listeners: []ir.Listener{httpListener(name, port, vhost("", route("bad", badRegex)))}}, "ns/bad"},
		{"bad address", &ir.Config{Version: 3, Listeners: []ir.Listener{
			old, {Name: "not-an-ip:80", Address: "not-an-ip", Port: 80, Protocol: ir.ProtocolHTTP},
		}}, `"not-an-ip" is not an IP address`},
		{"bad port", &ir.Config{Version: 4, Listeners: []ir.Listener{old, {Name: "127.0.0.1:0", Address: "127.0.0.1", Port: 0, Protocol: ir.ProtocolHTTP}}}, "port 0"},
		{"name mismatch", &ir.Config{Version: 5, Listeners: []ir.Listener{old, {Name: "x", Address: "127.0.0.1", Port: 1, Protocol: ir.ProtocolHTTP}}}, "does not match"},
	} {
		// Only the bad listener is refused (its socket, when it has one,
		// keeps its previous version); the others are applied.
		ack := h.p.Apply(tc.cfg)
		bad := tc.cfg.Listeners[len(tc.cfg.Listeners)-1].Name
		if ack.Error != "" || len(ack.InvalidListeners) != 1 || !contains(ack.InvalidListeners[bad], tc.wantErr) || ack.Version != tc.cfg.Version {
			t.Errorf("%s: got %+v, want only %s invalid, mentioning %q", tc.name, ack, bad, tc.wantErr)
		}
		if code, e := get(t, url+"/", "x"); code != 200 || e.Backend != "old" {
			t.Errorf("%s: old config no longer served: %d %+v", tc.name, code, e)
		}
	}
}

func TestBindErrorIsReportedAndRetried(t *testing.T) {
	h := newHarness(t)
	be := to("e", echoServer(t, "e"))
	vh := vhost("", route("r", prefixRule("/", be)))
	okName, okPort := h.port()
	// Someone else holds this port.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	takenName, takenPort := taken.Addr().String(), int32(taken.Addr().(*net.TCPAddr).Port)

	cfg := &ir.Config{Version: 1, Listeners: []ir.Listener{httpListener(okName, okPort, vh), httpListener(takenName, takenPort, vh)}}
	ack := h.p.Apply(cfg)
	if ack.Error != "" || ack.ListenerErrors[takenName] == "" || len(ack.ListenerErrors) != 1 {
		t.Fatalf("got %+v, want only %s in ListenerErrors", ack, takenName)
	}
	if code, _ := get(t, "http://"+okName+"/", "x"); code != 200 {
		t.Fatalf("other listener: got %d", code)
	}

	taken.Close()
	cfg2 := *cfg
	cfg2.Version = 2
	if ack := h.p.Apply(&cfg2); ack.Error != "" || len(ack.ListenerErrors) != 0 {
		t.Fatalf("retry: got %+v", ack)
	}
	if code, _ := get(t, "http://"+takenName+"/", "x"); code != 200 {
		t.Fatalf("after retry: got %d", code)
	}
}

// A request in flight on a listener that is removed still completes.
func TestRemovedListenerDrainsInFlight(t *testing.T) {
	h := newHarness(t)
	started := make(chan struct{})
	s, _ := counting(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	url := h.serve(vhost("", route("r", prefixRule("/", to("s", s)))))
	res := make(chan string, 1)
	go func() {
		resp, err := client.Get(url + "/")
		if err != nil {
			res <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- string(b)
	}()
	<-started
	h.apply(&ir.Config{Version: 2})
	if got := <-res; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
}
