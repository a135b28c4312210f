package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"portico.dev/portico/internal/ir"
)

// Upstream keep-alive connections survive a reload that keeps the endpoint,
// and are closed by one that drops it.
func TestUpstreamPoolsOutliveGenerations(t *testing.T) {
	h := newHarness(t)
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(echoHandler("s"))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	other := echoServer(t, "other")
	name, port := h.port()
	cfg := func(v uint64, be ir.Backend) *ir.Config {
		return &ir.Config{Version: v, Listeners: []ir.Listener{httpListener(name, port,
			vhost("", route("r", prefixRule("/", be), prefixRule("/v"+string(rune('0'+v)), be))))}}
	}
	for v := uint64(1); v <= 3; v++ {
		h.apply(cfg(v, to("s", s)))
		if code, _ := get(t, "http://"+name+"/", "x"); code != 200 {
			t.Fatalf("v%d: got %d", v, code)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("backend saw %d connections over 3 generations, want 1", n)
	}
	if n := h.p.pool.Len(); n != 1 {
		t.Fatalf("pool holds %d transports, want 1", n)
	}
	h.apply(cfg(4, to("other", other)))
	if n := h.p.pool.Len(); n != 1 {
		t.Fatalf("pool holds %d transports after the endpoint left, want 1", n)
	}
}

// Shutdown lets a request in flight finish, then stops serving.
func TestShutdownIsGraceful(t *testing.T) {
	h := newHarness(t)
	started := make(chan struct{})
	s, _ := counting(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(200 * time.Millisecond)
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := <-res; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
	if ack := h.p.Apply(&ir.Config{Version: 9}); ack.Error == "" {
		t.Fatal("Apply after Shutdown accepted")
	}
	waitRefused(t, url[len("http://"):])
}
